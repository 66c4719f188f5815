"""systemd units: gate-safety starts before gate-app and owns the socket directory; lgpio writes in
a writable directory (LG_WD), never the read-only working directory; the shipped socket path is
the one the Pi example config names."""
from __future__ import annotations

from pathlib import Path

from drivers.gate.safety.settings import DEFAULT_SOCKET, socket_of
from firmware_app.config import load_config
from tests.test_kiosk_unit import unit_entries

ROOT = Path(__file__).resolve().parents[1]
SAFETY = unit_entries((ROOT / "systemd" / "gate-safety.service").read_text())
APP = unit_entries((ROOT / "systemd" / "gate-app.service").read_text())


def _environment(entries) -> dict[str, str]:
    return dict(value.split("=", 1) for value in entries.get("Environment", []))


def test_the_controller_starts_first_and_the_appliance_never_removes_its_socket_directory():
    assert "gate-safety --config /etc/border-gate/gate.toml" in SAFETY["ExecStart"][0]
    assert "gatectl config check" in SAFETY["ExecStartPre"][0]
    assert SAFETY["Type"] == ["notify"] and SAFETY["Restart"] == ["always"]
    assert "gate-app.service" in SAFETY["Before"][0] and "gate-safety.service" in APP["After"][0]
    # gate-app's own runtime directory (the kiosk token's) is another one: stopping it never removes the socket's
    assert SAFETY["RuntimeDirectory"] == ["border-gate"] and "border-gate" not in APP.get("RuntimeDirectory", [])
    assert Path("/run") / SAFETY["RuntimeDirectory"][0] == DEFAULT_SOCKET.parent


def test_lgpio_writes_where_each_unit_may_write():
    assert _environment(SAFETY)["LG_WD"] == str(DEFAULT_SOCKET.parent)
    assert _environment(APP)["LG_WD"] in APP["ReadWritePaths"][0].split()


def test_the_pi_example_uses_the_controller_at_the_units_socket_with_explicit_relay_polarity():
    config = load_config(ROOT / "config" / "examples" / "pi-mantrap.toml")
    assert socket_of(config.gate.url) == DEFAULT_SOCKET
    assert config.gate.entry.relay_active_high is not None and config.gate.exit.relay_active_high is not None


def test_the_controller_reads_every_shipped_config_as_the_appliance_does():
    """Two readers of one [gate] section (the controller is stdlib-only): they must agree."""
    from drivers.gate.safety.settings import load
    from firmware_app.lane.wiring import gate_layout
    for path in [ROOT / "config" / "default.toml", *sorted((ROOT / "config" / "examples").glob("*.toml"))]:
        if "[device]" not in path.read_text():
            continue        # a scenario file, not an appliance config
        config = load_config(path)
        settings = load(path)
        assert settings.layout == gate_layout(config.gate), path.name
        assert settings.pin_factory == config.gate.pin_factory.value
        assert settings.silence_timeout_s == config.gate.silence_timeout_s


def test_the_controller_process_loads_only_gpiozero_and_the_standard_library():
    import subprocess
    import sys
    probe = ("import sys; import drivers.gate.safety.controller, drivers.gate.safety.simctl\n"
             "from gpiozero.pins.mock import MockFactory\n"
             "print(','.join(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True).stdout.strip().split(",")
    startup = {"__main__", "_distutils_hack"} | {name for name in loaded if name.startswith("__editable__")}
    assert set(loaded) - startup <= {"drivers", "gpiozero", "colorzero"}, loaded
