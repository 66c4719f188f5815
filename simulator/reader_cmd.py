"""`gatesim reader`: start a simulated passport reader on a pty and feed it documents.

Documents are MRZ lines separated by blank lines, from --doc FILE or stdin ('#' starts a comment).
The first line printed on stdout is the serial path to give the appliance (reader.url).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterable, Iterator

from drivers.errors import FrameEncodeError, ReaderSettingsError
from drivers.passport_reader.settings import CuteDelimiters, Framing, ReaderSettings, RteBccScope, RteLengthScope
from simulator.reader import FaultPlan, SimulatedReader, SimulatorError
from simulator.reader_blocks import WireFormat

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# pyserial flushes its input right after opening the port; give it that moment before writing.
PORT_SETTLE_S = 0.2


def register(groups) -> None:
    cmd = groups.add_parser("reader", help="simulated passport reader on a pseudo-terminal",
                            description=__doc__)
    cmd.add_argument("--framing", choices=[f.value for f in Framing], default="cute")
    cmd.add_argument("--pty-link", metavar="PATH", help="stable symlink to the pty (survives replug)")
    cmd.add_argument("--fault", action="append", default=[], metavar="KEY=VALUE",
                     help="chunk=MIN-MAX, delay=S, noise=N, truncate=P, ocr=P, bcc=P, foreign=P "
                          "(foreign: a stripe/barcode/reader block before a document; repeatable)")
    cmd.add_argument("--seed", type=int, default=0, help="random seed for faults (default 0)")
    cmd.add_argument("--doc", metavar="FILE", help="documents file (default: stdin)")
    cmd.add_argument("--wait-reader", type=float, default=0.0, metavar="S",
                     help="wait up to S seconds for the appliance to open the port first")
    cmd.add_argument("--gap", type=float, default=0.5, metavar="S", help="pause between documents")
    cmd.add_argument("--linger", type=float, default=1.0, metavar="S",
                     help="keep the pty open S seconds after the last document")
    cmd.add_argument("--cute-delimiters", choices=[d.value for d in CuteDelimiters if d.value != "custom"],
                     default="fs_gs", help="CUTE: fs_gs or so_si (indirect), direct (STX..ETX)")
    cmd.add_argument("--rte-no-bcc", action="store_true", help="RTE: no BCC after ETX (UseBCC off)")
    cmd.add_argument("--rte-bcc-scope", choices=[s.value for s in RteBccScope], default="after_soh")
    cmd.add_argument("--rte-length-scope", choices=[s.value for s in RteLengthScope],
                     default="after_length")
    cmd.set_defaults(func=run)


def split_documents(lines: Iterable[str]) -> Iterator[list[str]]:
    """Group text lines into documents; blank lines separate them."""
    current: list[str] = []
    for raw in lines:
        line = raw.strip()
        if line.startswith("#"):
            continue
        if line:
            current.append(line)
        elif current:
            yield current
            current = []
    if current:
        yield current


def run(args: argparse.Namespace) -> int:
    try:
        faults = FaultPlan.parse(args.fault)
        wire = _wire_format(args)
        source = _open_source(args.doc)
    except (SimulatorError, OSError) as exc:
        print(f"gatesim reader: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sim = SimulatedReader(wire, random.Random(args.seed), faults=faults,
                          link_path=args.pty_link)
    try:
        print(sim.open(), flush=True)
        return _feed(sim, args, source)
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        sim.close()
        source.close()


def _wire_format(args: argparse.Namespace) -> WireFormat:
    """The same settings object the driver takes, so simulator and driver cannot disagree."""
    try:
        settings = ReaderSettings(url="/dev/null", framing=args.framing, rte_use_bcc=not args.rte_no_bcc,
                                  rte_bcc_scope=RteBccScope(args.rte_bcc_scope),
                                  rte_length_scope=RteLengthScope(args.rte_length_scope),
                                  cute_delimiters=CuteDelimiters(args.cute_delimiters))
    except ReaderSettingsError as exc:
        raise SimulatorError(str(exc)) from None
    return WireFormat.from_settings(settings)


def _open_source(path: str | None):
    return open(path, encoding="ascii") if path else sys.stdin


def _feed(sim: SimulatedReader, args: argparse.Namespace, source) -> int:
    if args.wait_reader and not sim.wait_for_reader(args.wait_reader):
        print("gatesim reader: no reader opened the port", file=sys.stderr)
        return EXIT_FAILED
    if args.wait_reader:
        time.sleep(PORT_SETTLE_S)
    sent = 0
    try:
        for lines in split_documents(source):
            if sent:
                time.sleep(args.gap)
            sim.send(lines)
            sent += 1
            print(f"sent document {sent} ({len(lines)} lines)", file=sys.stderr, flush=True)
    except (FrameEncodeError, UnicodeDecodeError) as exc:
        print(f"gatesim reader: document {sent + 1} not sendable: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SimulatorError as exc:
        print(f"gatesim reader: {exc}", file=sys.stderr)
        return EXIT_FAILED
    time.sleep(args.linger)
    return EXIT_OK
