"""`gatectl kiosk demo` serves the traveller page with scripted transactions (no lane, no devices);
`gatectl kiosk wait` waits until the page answers and `gatectl kiosk launch-page` writes the start page
that hands the per-boot token to Chromium (the kiosk browser unit runs both before Chromium).

Exit codes: 0 ok, 1 the page did not answer in time, 2 bad config or the port is taken.
"""
from __future__ import annotations

import itertools
import json
import sys
import time
import urllib.request

from . import EXIT_FAILED, EXIT_OK, UsageError

DEMO_NATIONALITIES = ("GBR", "FRA", "EGY", "CHN", "MEX", "RUS")


def register(groups) -> None:
    kiosk = groups.add_parser("kiosk", help="traveller screen tools")
    actions = kiosk.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    demo = actions.add_parser("demo", help="serve the kiosk page and play scripted transactions")
    _common(demo)
    demo.add_argument("--pause", type=float, default=3.0, help="seconds between screens")
    demo.add_argument("--rounds", type=int, default=0, help="transactions to play (0: until interrupted)")
    demo.set_defaults(func=run_demo)
    wait = actions.add_parser("wait", help="wait until the kiosk page answers; exit 1 on timeout")
    _common(wait)
    wait.add_argument("--timeout", type=float, default=60.0)
    wait.set_defaults(func=run_wait)
    audio = actions.add_parser("audio", help="make the spoken prompts with espeak-ng (offline, at setup)")
    _common(audio)
    audio.add_argument("--out", required=True, metavar="DIR", help="folder to set as kiosk.audio_dir")
    audio.set_defaults(func=run_audio)
    launch = actions.add_parser("launch-page",
                                help="write the kiosk browser's private start page (needs kiosk.token_file)")
    _common(launch)
    launch.add_argument("--out", required=True, metavar="FILE", help="written mode 0600")
    launch.set_defaults(func=run_launch_page)


def _common(parser) -> None:
    parser.add_argument("--config", metavar="FILE", help="config file (its [kiosk] section)")
    parser.add_argument("--port", type=int, help="override the configured port (0: any free port)")


def _section(args):
    from ..config import load_config
    from ..config.model import KioskSection
    from ..errors import ConfigError
    try:
        section = load_config(args.config).kiosk if args.config else KioskSection()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    return section if args.port is None else section.model_copy(update={"port": args.port})


def _wording(args) -> dict[str, dict[str, str]]:
    """A one-stop config's authorities' wording of their screens (spoken as the screen shows it)."""
    from ..config import load_config
    from ..config.onestop_people import wording
    return wording(load_config(args.config).authority) if args.config else {}


def run_demo(args) -> int:
    from ..kiosk.demo import DemoLane, pass_transaction, refer_transaction
    from ..kiosk.errors import KioskError
    from ..kiosk.server import KioskServer
    section = _section(args)
    lane = DemoLane(lambda view: kiosk.show(view))
    try:
        kiosk = KioskServer.from_config(section, lane.on_input)
        kiosk.start()
    except KioskError as exc:
        raise UsageError(str(exc)) from None
    print(f"kiosk demo on {kiosk.url} (Ctrl-C to stop); open {_demo_start_page(kiosk)} in a browser "
          "(it hands the page its token)", flush=True)
    try:
        scripts = itertools.cycle([pass_transaction, refer_transaction])
        rounds = itertools.count() if args.rounds <= 0 else range(args.rounds)
        for number, script in zip(rounds, scripts):
            nationality = DEMO_NATIONALITIES[number % len(DEMO_NATIONALITIES)]
            lane.play_all(script(nationality), pause=lambda: time.sleep(args.pause))
    finally:
        kiosk.stop()
    return EXIT_OK


def _demo_start_page(kiosk) -> str:
    import tempfile
    from pathlib import Path

    from ..kiosk.auth import write_launch_page
    start = Path(tempfile.mkdtemp(prefix="kiosk-demo-")) / "start.html"
    write_launch_page(start, kiosk.url, kiosk.token)
    return start.as_uri()


def run_wait(args) -> int:
    port = _section(args).port
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if json.loads(response.read()).get("ok"):
                    print(f"kiosk page answers on port {port}")
                    return EXIT_OK
        except (OSError, ValueError):
            pass  # not up yet
        time.sleep(0.5)
    print(f"kiosk page did not answer on port {port} within {args.timeout:g} s", file=sys.stderr)
    return EXIT_FAILED


def run_launch_page(args) -> int:
    from pathlib import Path

    from ..kiosk.auth import read_token_file, write_launch_page
    from ..kiosk.errors import KioskError
    section = _section(args)
    if section.token_file is None:
        raise UsageError("kiosk.token_file is not set: gate-app keeps the kiosk token in memory only")
    try:
        token = read_token_file(section.token_file)
        write_launch_page(Path(args.out), f"http://127.0.0.1:{section.port}/", token)
    except (KioskError, OSError) as exc:
        print(f"kiosk launch page: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"kiosk start page written to {args.out}")
    return EXIT_OK


def run_audio(args) -> int:
    from pathlib import Path

    from ..kiosk.audio import build_prompts
    from ..kiosk.errors import KioskError
    section = _section(args)
    try:
        written = build_prompts(Path(args.out), tuple(section.languages), wording=_wording(args))
    except (KioskError, OSError) as exc:     # OSError: a folder it may not write (setup.sh escalates)
        print(f"kiosk audio: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"kiosk audio: {written} prompt(s) written to {args.out} ({', '.join(section.languages)})")
    return EXIT_OK
