"""Real device timing for the simulated lane: how long a chip, a reader, a camera, the doors and a
walking traveller take, so a run on the bench lasts what a run at a post lasts.

The model ACTS on the simulated devices (it is not added up on paper):
- the virtual chip's answer to each APDU is held back by its air time at the chosen ISO/IEC 14443
  bit rate (bytes each way, frame overhead, chaining) plus the chip's processing time
  (simulator/vchip/vpcd.py `latency`);
- the passport reader writes the MRZ to its pty only after detection and scan time;
- the scene camera delivers frames at its frame rate, each after its exposure;
- the gate simulator's doors take the motor time to swing;
- the traveller approaches, places the document, turns to the camera after a while, and steps
  in / walks out when the doors are open.
Human times vary by a seeded jitter, so a run repeats exactly with the same seed.

Accelerated time: only the approach and the placing of the document may be shortened
(`speedup`), and only while the lane is idle (nobody walking out behind it): it observes nothing
then. Everything from the document on the reader to the traveller leaving runs in real time, and
so do the approach and placing while the previous traveller is still between the doors; the
reports add back the skipped idle time and say so.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, fields, replace

CHIP_RATES_KBPS = (106, 212, 424, 848)
BITS_PER_BYTE = 9            # ISO/IEC 14443-A: 8 data bits and a parity bit per byte
FRAME_OVERHEAD = 3           # block protocol: PCB byte and CRC_A (2 bytes) per I-block
FRAME_SIZE = 256             # FSC/FSD the modelled reader and chip agree on
FRAME_GUARD_S = 0.0001       # frame delay time between a frame and its answer (~86-100 us)
RBLOCK_BYTES = 3             # chaining: each chained block is acknowledged by an R-block
GENERAL_AUTHENTICATE, INTERNAL_AUTHENTICATE = 0x86, 0x88
KEY_DATA = 40                # a GENERAL AUTHENTICATE this long carries a public key (a P-256 point is 65)


class TimingError(ValueError):
    """A [timing] value is outside what the model accepts."""


@dataclass(frozen=True)
class TimingModel:
    chip_kbps: int = 424             # ISO/IEC 14443 bit rate: 106, 212, 424 or 848 kbit/s
    chip_apdu_ms: float = 3.0        # chip processing of every APDU (file system, secure messaging)
    chip_crypto_ms: float = 60.0     # extra for public-key APDUs (PACE/CA key agreement, AA signature)
    reader_detect_s: float = 0.15    # the reader notices a document on its glass
    reader_scan_s: float = 0.35      # the reader images the page and reads the MRZ
    camera_fps: float = 30.0         # frames per second the camera delivers
    camera_exposure_ms: float = 8.0  # exposure of one frame (a frame never comes sooner)
    door_motor_s: float = 0.8        # a door swings open or shut
    # walks at 1.2 m/s: between the 1.07 m/s (3.5 ft/s) the US MUTCD 2009, 4E.06, assumes for crossings
    # and the 1.27-1.46 m/s comfortable gait of adults aged 20-59 (Bohannon 1997, Age and Ageing 26:15)
    approach_s: float = 2.5          # traveller in: from the lane's entrance to the kiosk (about 3 m)
    place_document_s: float = 1.5    # finding the page and putting the document on the reader
    look_at_camera_s: float = 0.5    # after placing the document, until the face is in view
    step_in_s: float = 1.0           # from the entry door open to inside the gate (about 1 m)
    walk_out_s: float = 1.5          # from the exit door open to out of the gate (about 1.8 m)
    jitter: float = 0.2              # human times vary uniformly by +-this fraction
    seed: int = 1
    speedup: float = 1.0             # approach and placing run this many times faster (lane idle)

    def __post_init__(self) -> None:
        if self.chip_kbps not in CHIP_RATES_KBPS:
            raise TimingError(f"chip_kbps must be one of {', '.join(map(str, CHIP_RATES_KBPS))}, "
                              f"not {self.chip_kbps!r}")
        for item in fields(self):
            value = getattr(self, item.name)
            low, high = LIMITS.get(item.name, (0.0, 3600.0))
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise TimingError(f"{item.name} must be a number from {low} to {high}, not {value!r}")
        if self.camera_exposure_ms / 1000 > 1.0 / self.camera_fps + 1e-9:
            raise TimingError("camera_exposure_ms must fit in one frame interval (1000 / camera_fps)")

    # --- the chip -----------------------------------------------------------------------------
    def air_time_s(self, command: bytes, response: bytes) -> float:
        """The time both messages spend on the air at chip_kbps, blocks and chaining included."""
        return _one_way_s(len(command), self.chip_kbps) + _one_way_s(len(response), self.chip_kbps)

    def apdu_s(self, command: bytes, response: bytes) -> float:
        """Air time plus the chip's processing of this command."""
        processing = self.chip_apdu_ms
        if _public_key_step(command):
            processing += self.chip_crypto_ms
        return self.air_time_s(command, response) + processing / 1000.0

    # --- the camera ---------------------------------------------------------------------------
    @property
    def frame_interval_s(self) -> float:
        return 1.0 / self.camera_fps

    @property
    def exposure_s(self) -> float:
        return self.camera_exposure_ms / 1000.0

    def human(self, rng: random.Random) -> TravellerPace:
        """One traveller's own times, drawn from the model's jitter."""
        def vary(seconds: float) -> float:
            return seconds * (1.0 + rng.uniform(-self.jitter, self.jitter))
        return TravellerPace(vary(self.approach_s), vary(self.place_document_s), vary(self.look_at_camera_s),
                             vary(self.step_in_s), vary(self.walk_out_s))

    def with_values(self, **values) -> TimingModel:
        return replace(self, **values)


LIMITS = {"chip_kbps": (106, 848), "camera_fps": (1.0, 240.0), "jitter": (0.0, 0.9),
          "seed": (0, 2**31), "speedup": (1.0, 1000.0), "chip_apdu_ms": (0.0, 1000.0),
          "chip_crypto_ms": (0.0, 5000.0), "camera_exposure_ms": (0.0, 1000.0)}
KEY_HELP = {
    "chip_kbps": "ISO/IEC 14443 bit rate of the chip link: 106, 212, 424 or 848 kbit/s",
    "chip_apdu_ms": "the chip's processing time of every APDU, ms",
    "chip_crypto_ms": "extra processing of public-key APDUs (GENERAL/INTERNAL AUTHENTICATE), ms",
    "reader_detect_s": "the passport reader notices a document, s",
    "reader_scan_s": "the reader images the page and reads the MRZ, s (the pty gets the MRZ after detect+scan)",
    "camera_fps": "frames per second the camera delivers",
    "camera_exposure_ms": "exposure of one frame, ms (at most one frame interval)",
    "door_motor_s": "a door swings open or shut, s",
    "approach_s": "traveller in: from the lane's entrance to the kiosk, s",
    "place_document_s": "finding the page and placing the document on the reader, s",
    "look_at_camera_s": "after placing the document, until the face is in front of the camera, s",
    "step_in_s": "from the entry door open until the traveller is inside, s",
    "walk_out_s": "from the exit door open until the traveller has left, s",
    "jitter": "human times vary uniformly by +- this fraction (0..0.9)",
    "seed": "seed of the human times' jitter",
    "speedup": "approach and placing run this many times faster (only while the lane is idle: nobody walks "
               "out behind it; reports add the skipped time back); everything from the document on the reader "
               "on is real time",
}


@dataclass(frozen=True)
class TravellerPace:
    approach_s: float
    place_document_s: float
    look_at_camera_s: float
    step_in_s: float
    walk_out_s: float


def _public_key_step(command: bytes) -> bool:
    """AA's signature, and the GENERAL AUTHENTICATE steps that send a public key (PACE mapping and
    key agreement, CA): the chip computes on its key then; PACE's nonce and token steps are cheap."""
    if len(command) < 2:
        return False
    return command[1] == INTERNAL_AUTHENTICATE or (command[1] == GENERAL_AUTHENTICATE and len(command) > KEY_DATA)


def _one_way_s(size: int, kbps: int) -> float:
    if size <= 0:
        return 0.0
    blocks = math.ceil(size / (FRAME_SIZE - FRAME_OVERHEAD))
    acks = (blocks - 1) * RBLOCK_BYTES
    on_air = (size + blocks * FRAME_OVERHEAD + acks) * BITS_PER_BYTE
    return on_air / (kbps * 1000.0) + blocks * FRAME_GUARD_S


def timing_from(table: object) -> TimingModel:
    """A [timing] table: every key optional; unknown keys get a "did you mean"."""
    import difflib
    if not isinstance(table, dict):
        raise TimingError("[timing] must be a table of KEY = number")
    known = [item.name for item in fields(TimingModel)]
    for name in table:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TimingError(f"[timing]: unknown key {name!r}{hint} (keys: {', '.join(known)})")
    values = dict(table)
    for name in ("chip_kbps", "seed"):
        if name in values and isinstance(values[name], float) and values[name].is_integer():
            values[name] = int(values[name])
    try:
        return TimingModel(**values)
    except TimingError as exc:
        raise TimingError(f"[timing]: {exc}") from None


def timing_help() -> list[str]:
    defaults = TimingModel()
    return [f"  {name} = {getattr(defaults, name)!r}: {text}" for name, text in KEY_HELP.items()]


class LaneClock:
    """The modelled timeline of a timed run: real time plus the idle time the speedup skipped.

    A queue forms at the lane: the next traveller sets off from the queue when the one before has
    stepped into the gate (or, when nobody entered, has left the kiosk), walks up, and places the
    document once the lane (and the bench) is ready. "Traveller in" is that setting off; the lane
    cycle is one traveller in to the next traveller in. Everything real between them counts,
    the bench's own hand-over to the next traveller included (a real traveller steps up then too).
    """

    def __init__(self, timing: TimingModel, sleep=time.sleep, monotonic=time.monotonic):
        self.timing, self._sleep, self._monotonic = timing, sleep, monotonic
        self.skipped = 0.0
        self.next_in: float | None = None
        self.place_started: float | None = None     # modelled moment the last document placing began

    def now(self) -> float:
        return self._monotonic() + self.skipped

    def idle_until(self, moment: float, accelerate: bool = True) -> None:
        """Wait until the modelled moment: accelerated only while the lane is idle (nobody walks
        out behind it), otherwise in real time (the lane works meanwhile)."""
        gap = moment - self.now()
        if gap <= 0:
            return
        speedup = self.timing.speedup if accelerate else 1.0
        self._sleep(gap / speedup)
        self.skipped += gap - gap / speedup

    def arrive(self, pace: TravellerPace, accelerate: bool = True) -> float:
        """The traveller walks up and places the document; returns when they set off (modelled).
        `accelerate`: False while the previous traveller still walks out (the lane is not idle)."""
        set_off = self.next_in if self.next_in is not None else self.now()
        self.idle_until(set_off + pace.approach_s, accelerate)
        self.place_started = self.now()
        self.idle_until(self.place_started + pace.place_document_s, accelerate)
        return set_off

    def departed(self, set_off: float, entered_at: float | None) -> float:
        """The traveller is in the gate (or turned away); returns their lane cycle in seconds."""
        self.next_in = entered_at + self.skipped if entered_at is not None else self.now()
        return self.next_in - set_off
