"""Import rules of the architecture, checked by reading the source with `ast` (nothing is imported).

One owner per heavy library; firmware_app imports no hardware library; imports point down the
layers. Lazy imports inside functions count the same as module-level ones.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_ROOTS = ("firmware_app", "drivers", "simulator", "bench", "models", "scripts")


@dataclass(frozen=True)
class ImportRule:
    library: str                     # top-level module name as imported
    owners: tuple[str, ...]          # path prefixes (relative to the repo) that may import it
    why: str


RULES = (
    ImportRule("smartcard", ("drivers/smartcard/",), "only drivers/smartcard talks to pyscard"),
    ImportRule("onnxruntime", ("firmware_app/face/",), "only firmware_app/face runs inference"),
    ImportRule("paho", ("firmware_app/bmis/mqtt_client.py",), "only the MQTT client touches paho"),
    ImportRule("serial", ("drivers/passport_reader/",), "only the passport reader driver owns a port"),
    ImportRule("picamera2", ("drivers/camera/",), "only the camera driver owns a camera"),
    # The simulator and benches drive gpiozero's own MockFactory pins, as a test bench would.
    ImportRule("gpiozero", ("drivers/gate/", "simulator/", "bench/"), "only the gate driver owns pins"),
    ImportRule("lgpio", ("drivers/gate/",), "only the gate driver owns pins"),
    ImportRule("RPi", ("drivers/gate/",), "only the gate driver owns pins"),
    # cv2 is image maths for face/ and frames for camera/; benches may read images with it, and the
    # simulator synthesises presentation attack frames (a print or screen held to its camera).
    ImportRule("cv2", ("firmware_app/face/", "drivers/camera/", "bench/", "simulator/presentation_attacks.py"),
               "image code lives in face/ and camera/"),
    # onnx builds the PAD graphs at setup; the appliance only runs models (onnxruntime).
    ImportRule("onnx", ("models/",), "only the setup-time model scripts build ONNX graphs"),
    ImportRule("simulator", ("simulator/", "bench/"), "the appliance and drivers never depend on the simulator"),
    ImportRule("bench", ("bench/",), "nothing depends on benchmarks"),
    # The lane benchmark replays the lane tests' travellers (bench/ is not shipped).
    ImportRule("tests", ("bench/",), "nothing shipped depends on the tests"),
    ImportRule("firmware_app", ("firmware_app/", "simulator/", "bench/", "models/", "scripts/"),
               "drivers sit below the appliance and never import it"),
)
VIDEO_CAPTURE_OWNERS = ("drivers/camera/",)


def imported_modules(source: str) -> set[str]:
    """Absolute module names a source imports, anywhere in it (incl. importlib.import_module("x"))."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif _is_import_module_call(node):
            found.add(node.args[0].value)
    return found


def _is_import_module_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not node.args:
        return False
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
    first = node.args[0]
    return name in ("import_module", "__import__") and isinstance(first, ast.Constant) \
        and isinstance(first.value, str)


def uses_video_capture(source: str) -> bool:
    return any(isinstance(node, ast.Attribute) and node.attr == "VideoCapture"
               for node in ast.walk(ast.parse(source)))


def violations(relative_path: str, source: str) -> list[str]:
    top_levels = {name.split(".")[0] for name in imported_modules(source)}
    found = [f"{relative_path} imports {rule.library}: {rule.why}" for rule in RULES
             if rule.library in top_levels and not relative_path.startswith(rule.owners)]
    if uses_video_capture(source) and not relative_path.startswith(VIDEO_CAPTURE_OWNERS):
        found.append(f"{relative_path} uses cv2.VideoCapture: cameras belong to drivers/camera")
    return found


def _source_files() -> list[Path]:
    return sorted(path for root in SOURCE_ROOTS for path in (ROOT / root).rglob("*.py"))


def test_the_source_follows_the_import_rules():
    files = _source_files()
    assert len(files) > 100, "the scan found too few files: wrong root?"
    found = [problem for path in files
             for problem in violations(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))]
    assert found == []


@pytest.mark.parametrize(("path", "source", "expected"), [
    ("firmware_app/lane/x.py", "def f():\n    import serial\n", "imports serial"),
    ("firmware_app/policy/x.py", "from smartcard.System import readers\n", "imports smartcard"),
    ("drivers/camera/x.py", "import onnxruntime as ort\n", "imports onnxruntime"),
    ("firmware_app/bmis/link.py", "import paho.mqtt.client as mqtt\n", "imports paho"),
    ("firmware_app/app.py", "import importlib\nimportlib.import_module('gpiozero')\n", "imports gpiozero"),
    ("drivers/gate/x.py", "from firmware_app.lane import machine\n", "imports firmware_app"),
    ("firmware_app/lane/x.py", "from simulator.reader import SimulatedReader\n", "imports simulator"),
    ("firmware_app/face/x.py", "import cv2\ncv2.VideoCapture(0)\n", "cv2.VideoCapture"),
])
def test_a_broken_rule_is_reported(path, source, expected):
    assert any(expected in problem for problem in violations(path, source))


@pytest.mark.parametrize(("path", "source"), [
    ("drivers/smartcard/pcsc.py", "from smartcard.System import readers\n"),
    ("firmware_app/bmis/mqtt_client.py", "import paho.mqtt.client as paho\n"),
    ("firmware_app/face/runtime.py", "import onnxruntime as ort\n"),
    ("firmware_app/lane/x.py", "from .machine import step\nfrom drivers.gate.events import GateSnapshot\n"),
])
def test_an_owner_may_import_its_library(path, source):
    assert violations(path, source) == []


HARDWARE_LIBRARIES = ("smartcard", "serial", "gpiozero", "picamera2", "lgpio")


def _libraries_loaded_by(packages: tuple[str, ...], libraries: tuple[str, ...]) -> str:
    """Which of `libraries` a fresh interpreter has loaded after importing `packages`."""
    probe = ("import importlib, sys\n"
             f"for name in {packages!r}: importlib.import_module(name)\n"
             f"print(','.join(n for n in {libraries!r} if n in sys.modules))\n")
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True).stdout.strip()


def test_pure_packages_load_no_heavy_library_even_transitively():
    pure = ("firmware_app.mrz", "firmware_app.emrtd", "firmware_app.emrtd.reader", "firmware_app.emrtd.pace.protocol",
            "firmware_app.emrtd.chip_auth.ca", "firmware_app.emrtd.chip_auth.aa", "firmware_app.config",
            "firmware_app.kiosk")
    assert _libraries_loaded_by(pure, HARDWARE_LIBRARIES + ("onnxruntime", "paho", "cv2")) == ""


def test_decisions_and_the_lane_load_no_model_runtime_nor_hardware_library():
    # They use the face package's result types; the model runtime stays in face's verifier.
    logic = ("firmware_app.policy", "firmware_app.lane.machine", "firmware_app.face.capture",
             "firmware_app.officer.server")     # the officer console serves images, never runs a model
    assert _libraries_loaded_by(logic, HARDWARE_LIBRARIES + ("onnxruntime", "paho")) == ""
