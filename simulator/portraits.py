"""Face photos the simulator can always use: public-domain portraits that registry packages ship.

A fresh clone has no ../shared/data/faces, so the demo takes its people from packages `make setup`
installs (the `sim` extra) and reads them where they were installed (the package is not imported,
nothing is downloaded, no image is kept in this repository):

    hopper   Grace Hopper, US Navy photograph NH 96919-KN, shipped by matplotlib (sample_data)
    collins  Eileen Collins, NASA photograph, shipped by scikit-image (skimage.data.astronaut)

Each person becomes a folder of the usual layout: img1.jpg the portrait (for the chip) and
img2.jpg, img3.jpg live frames made from it by a small turn, a change of scale, place and light,
sensor noise and JPEG compression, as a camera at a gate would see the holder. NOTICE.md at the
project root states each image's licence.
"""
from __future__ import annotations

import importlib.util
import io
import random
from dataclasses import dataclass
from pathlib import Path

LIVE_FRAMES = 2
SCENE_SIZE = (640, 480)          # the camera's frame
SCENE_GREY = 90                  # the scene camera's empty background


class PortraitUnavailable(RuntimeError):
    """No bundled portrait can be found (the packages of the `sim` extra are not installed)."""


@dataclass(frozen=True)
class Portrait:
    person: str            # folder name used in scenarios
    subject: str
    package: str           # the distribution's import name
    resource: str          # path inside the installed package
    licence: str
    crop: tuple[float, float, float, float] | None = None   # head and shoulders, as fractions of the image

    def path(self) -> Path | None:
        """Where the installed package keeps the image (found without importing the package)."""
        try:
            spec = importlib.util.find_spec(self.package)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        for root in spec.submodule_search_locations:
            candidate = Path(root) / self.resource
            if candidate.is_file():
                return candidate
        return None


PORTRAITS = (
    Portrait("hopper", "Grace Hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
             "public domain (US Navy photograph, a work of the US federal government)"),
    Portrait("collins", "Eileen Collins", "skimage", "data/astronaut.png",
             "public domain (NASA photograph; scikit-image: no known copyright restrictions)",
             crop=(0.195, 0.0, 0.684, 0.586)),
)


def available_portraits() -> list[Portrait]:
    return [p for p in PORTRAITS if p.path() is not None]


def write_bundled_faces(dest: Path, rng: random.Random) -> list[Portrait]:
    """Write one folder per available portrait under dest; returns the portraits written."""
    found = available_portraits()
    if not found:
        raise PortraitUnavailable("no bundled portraits: install the simulator extra "
                                  "(`make setup`, or pip install -e '.[sim]': matplotlib, scikit-image)")
    for portrait in found:
        folder = Path(dest) / portrait.person
        folder.mkdir(parents=True, exist_ok=True)
        image = _load_rgb(portrait.path(), portrait.crop)
        image.save(folder / "img1.jpg", "JPEG", quality=95)
        for n in range(LIVE_FRAMES):
            (folder / f"img{n + 2}.jpg").write_bytes(live_frame(image, rng))
    return found


def _load_rgb(path: Path, crop: tuple[float, float, float, float] | None):
    from PIL import Image

    with Image.open(path) as img:
        image = img.convert("RGB")
    if crop is None:
        return image
    w, h = image.size
    return image.crop((int(crop[0] * w), int(crop[1] * h), int(crop[2] * w), int(crop[3] * h)))


def live_frame(portrait, rng: random.Random, quality_range: tuple[int, int] = (60, 80)) -> bytes:
    """The portrait as the gate camera would see the person: turned, moved, lit differently, noisy.
    The frame is filled edge to edge: a visible photo border is what a print attack looks like."""
    scene = _relit(_posed(portrait, rng), rng)
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=rng.randint(*quality_range))
    return out.getvalue()


def _posed(portrait, rng: random.Random):
    """A small head turn (roll) and a distance change: the live face is never the portrait's pixels."""
    from PIL import Image

    angle = rng.uniform(-5.0, 5.0)
    scale = max(SCENE_SIZE[0] / portrait.width, SCENE_SIZE[1] / portrait.height) * rng.uniform(1.12, 1.25)
    size = (int(portrait.width * scale), int(portrait.height * scale))
    face = portrait.resize(size, Image.Resampling.BILINEAR).rotate(angle, resample=Image.Resampling.BILINEAR)
    spare_x, spare_y = (size[0] - SCENE_SIZE[0]) // 2, (size[1] - SCENE_SIZE[1]) // 2
    x = spare_x + rng.randint(-spare_x // 3, spare_x // 3)
    y = spare_y // 2 + rng.randint(0, spare_y // 3)         # the face sits in the upper half
    return face.crop((x, y, x + SCENE_SIZE[0], y + SCENE_SIZE[1]))


def _relit(scene, rng: random.Random):
    """Other light (gain and gamma, a warmer or cooler cast) and a little sensor noise."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(scene, dtype=np.float32) / 255.0
    pixels = pixels ** rng.uniform(0.8, 1.25) * rng.uniform(0.8, 1.15)
    pixels *= np.array([rng.uniform(0.93, 1.07) for _ in range(3)], dtype=np.float32)
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0.0, 0.012, pixels.shape)
    pixels = np.clip(pixels + noise, 0.0, 1.0)
    return Image.fromarray((pixels * 255).astype(np.uint8), "RGB")


BUNDLED = "bundled"


@dataclass(frozen=True)
class FaceSet:
    """The folder of person folders a bench reads, and where its people came from."""
    root: Path
    bundled: tuple[str, ...]       # persons made from the packages' portraits
    linked: tuple[str, ...]        # persons read in place from a photo folder (e.g. ../shared/data/faces)
    source: Path | None            # that folder, if any

    @property
    def persons(self) -> frozenset[str]:
        return frozenset(self.bundled + self.linked)

    def describe(self) -> str:
        parts = []
        if self.source is not None:
            parts.append(f"{len(self.linked)} people from {self.source}")
        if self.bundled:
            names = ", ".join(f"{p.person} ({p.subject}, {p.package})" for p in PORTRAITS if p.person in self.bundled)
            parts.append(f"bundled public-domain portraits: {names}")
        return "; ".join(parts) or "none"


def prepare_faces(choice: Path | str | None, default: Path, workdir: Path, rng: random.Random) -> FaceSet:
    """The people a bench can show: the bundled portraits, plus the photo folder chosen (or the
    default one when it exists). An explicitly chosen folder that does not exist is an error."""
    source = _photo_folder(choice, default)
    root = Path(workdir) / "faces"
    root.mkdir(parents=True, exist_ok=True)
    try:
        bundled = tuple(p.person for p in write_bundled_faces(root, rng))
    except PortraitUnavailable:
        if source is None:
            raise
        bundled = ()
    linked = _link_people(source, root) if source is not None else ()
    return FaceSet(root, bundled, linked, source)


def _photo_folder(choice: Path | str | None, default: Path) -> Path | None:
    if choice is None:
        return default if Path(default).is_dir() else None
    if str(choice) == BUNDLED:
        return None
    if not Path(choice).is_dir():
        raise FileNotFoundError(f"face photos not found at {choice} (pass --faces DIR, or --faces {BUNDLED})")
    return Path(choice)


def _photos(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")]


def _link_people(source: Path, root: Path) -> tuple[str, ...]:
    """Person folders are linked, not copied: third-party photos stay where they are."""
    linked = []
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith("_")):
        if (root / folder.name).exists() or len(_photos(folder)) < 2:
            continue                     # a bundled person keeps its name; a person needs two photos
        (root / folder.name).symlink_to(folder.resolve(), target_is_directory=True)
        linked.append(folder.name)
    return tuple(linked)
