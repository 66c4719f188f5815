"""`gatesim chip serve DIR`: plug a virtual passport chip into pcscd through vsmartcard's vpcd.

DIR is what `gatesim passport build --out DIR` writes (<file>.bin, chip/aa_key.pem, chip/ca_key.pem
or chip/ca_key_dh.json).
The BAC/PACE MRZ key comes from DG1. With --start-pcscd a private pcscd is started first (needs root
and no other pcscd); otherwise the system pcscd's vpcd port is used (35963 by default).

    gatesim chip serve DIR [--pace 13] [--mapping gm|im|cam] [--cipher aes128] [--extended] [--can 123456]
                           [--start-pcscd] [--port N] [--delay-ms MS] [--remove-after N] [--corrupt-mac-on-read N]
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_CIPHER_ARC = {"3des": 1, "aes128": 2, "aes192": 3, "aes256": 4}
_DH_PARAMETERS = {0, 1, 2}
_MAPPING_ARCS = {"gm": (1, 2), "im": (3, 4), "cam": (None, 6)}  # (DH, ECDH) arcs under id-PACE


def register(groups) -> None:
    cmd = groups.add_parser("chip", help="virtual ICAO chip behind pcscd (vsmartcard vpcd)")
    actions = cmd.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    serve = actions.add_parser("serve", help="serve a passport directory as a chip until interrupted")
    serve.add_argument("directory", type=Path)
    serve.add_argument("--pace", type=int, metavar="PARAM_ID", help="offer PACE-GM with this standard parameter id")
    serve.add_argument("--mapping", choices=sorted(_MAPPING_ARCS), default="gm",
                       help="PACE mapping: generic, integrated, or chip authentication (needs EF.CardSecurity.bin)")
    serve.add_argument("--cipher", choices=sorted(_CIPHER_ARC), default="aes128")
    serve.add_argument("--extended", action="store_true", help="support extended-length APDUs")
    serve.add_argument("--can", metavar="CAN")
    serve.add_argument("--start-pcscd", action="store_true", help="start a private pcscd with vpcd")
    serve.add_argument("--port", type=int, default=35963, help="vpcd port (ignored with --start-pcscd)")
    serve.add_argument("--delay-ms", type=float, default=0.0, help="slow chip: delay per APDU")
    serve.add_argument("--remove-after", type=int, metavar="N", help="card leaves after N APDUs")
    serve.add_argument("--corrupt-mac-on-read", type=int, metavar="N", help="bad response MAC on the N-th read")
    serve.add_argument("--seconds", type=float, default=0.0, help="stop after S seconds (0: until Ctrl-C)")
    serve.set_defaults(func=run_serve)


def _chip(args):
    from firmware_app.emrtd.files import LdsFile
    from firmware_app.emrtd.keys import mrz_key_from_lines
    from firmware_app.emrtd.lds import parse_dg1
    from simulator.vchip.applet import ChipConfig, ChipFaults, VirtualIcaoChip
    from simulator.vchip.documents import encode_card_access

    files = {LdsFile(p.name[:-4]).fid: p.read_bytes() for p in args.directory.glob("*.bin")
             if p.name[:-4] in LdsFile._value2member_map_}
    keys = _chip_keys(args.directory / "chip")
    pace = _pace(args)
    card_security = args.directory / "EF.CardSecurity.bin"
    if args.mapping == "cam" and not card_security.exists():
        raise ValueError("PACE-CAM needs EF.CardSecurity.bin (gatesim passport build --pace-cam)")
    mrz = mrz_key_from_lines(list(parse_dg1(files[LdsFile.DG1.fid]).lines))
    config = ChipConfig(files=files, mrz=mrz, can=args.can, pace=pace, extended_length=args.extended,
                        card_access=encode_card_access(pace) if pace else None,
                        faults=ChipFaults(corrupt_mac_on_read=args.corrupt_mac_on_read),
                        aa_key=keys["aa"], ca_key=keys["ca"],
                        card_security=card_security.read_bytes() if card_security.exists() else None)
    return VirtualIcaoChip(config, os.urandom)


def _pace(args) -> list:
    from firmware_app.emrtd.pace.info import PaceInfo

    if args.pace is None:
        return []
    dh_arc, ec_arc = _MAPPING_ARCS[args.mapping]
    mapping = dh_arc if args.pace in _DH_PARAMETERS else ec_arc
    if mapping is None:
        raise ValueError("PACE-CAM is defined on ECDH parameters only")
    return [PaceInfo(f"0.4.0.127.0.7.2.2.4.{mapping}.{_CIPHER_ARC[args.cipher]}", 2, args.pace)]


def _chip_keys(directory: Path) -> dict:
    """AA and CA private keys of the passport directory (None when the document has none)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from simulator.chip_keys import DhChipKey
    keys = {name: load_pem_private_key(path.read_bytes(), None) if path.exists() else None
            for name, path in (("aa", directory / "aa_key.pem"), ("ca", directory / "ca_key.pem"))}
    dh_key = directory / "ca_key_dh.json"
    if keys["ca"] is None and dh_key.exists():
        keys["ca"] = DhChipKey.from_json(dh_key.read_text())
    return keys


def run_serve(args) -> int:
    from firmware_app.emrtd.errors import EmrtdError
    from simulator.vchip.pcscd import READER_URL, PcscdUnavailable
    try:
        chip = _chip(args)
    except (OSError, KeyError, ValueError, EmrtdError) as exc:
        print(f"gatesim: cannot load the passport directory: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory() as workdir:
        try:
            pcscd, card = _plug_in(args, chip, Path(workdir))
        except (PcscdUnavailable, OSError) as exc:
            print(f"gatesim: cannot reach vpcd: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"virtual chip ready on vpcd port {card.port}; reader {READER_URL}", flush=True)
        try:
            _wait(args.seconds)
        except KeyboardInterrupt:
            pass
        finally:
            card.remove()
            if pcscd:
                pcscd.stop()
    return EXIT_OK


def _plug_in(args, chip, workdir: Path):
    from simulator.vchip.pcscd import PcscdProcess
    from simulator.vchip.vpcd import VpcdCard, card_atr
    pcscd = PcscdProcess(workdir).start() if args.start_pcscd else None
    card = VpcdCard(chip, card_atr(args.extended), port=pcscd.port if pcscd else args.port,
                    delay_s=args.delay_ms / 1000)
    card.remove_after_apdus = args.remove_after
    try:
        card.connect()
    except OSError:
        if pcscd:
            pcscd.stop()
        raise
    return pcscd, card


def _wait(seconds: float) -> None:
    deadline = time.monotonic() + seconds if seconds else None
    while deadline is None or time.monotonic() < deadline:
        time.sleep(0.2)
