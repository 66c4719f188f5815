"""LDS parsing (ICAO 9303-10): EF.COM, DG1, DG2, DG7, DG11, DG12, DG14, DG15 and EF.SOD.
No I/O, every length bounded."""
from firmware_app.emrtd.lds.com import ComFile, parse_com
from firmware_app.emrtd.lds.dg1 import Dg1, Dg1Check, compare_with_printed, parse_dg1
from firmware_app.emrtd.lds.dg2 import Dg2, decode_portrait, parse_dg2
from firmware_app.emrtd.lds.dg14 import Dg14, parse_dg14
from firmware_app.emrtd.lds.dg15 import Dg15, parse_dg15
from firmware_app.emrtd.lds.dg_optional import Dg7, TextDataGroup, parse_dg7, parse_dg11, parse_dg12
from firmware_app.emrtd.lds.sod import SecurityObject, parse_sod

__all__ = [
    "ComFile",
    "Dg1",
    "Dg1Check",
    "Dg2",
    "Dg7",
    "Dg14",
    "Dg15",
    "SecurityObject",
    "TextDataGroup",
    "compare_with_printed",
    "decode_portrait",
    "parse_com",
    "parse_dg1",
    "parse_dg2",
    "parse_dg7",
    "parse_dg11",
    "parse_dg12",
    "parse_dg14",
    "parse_dg15",
    "parse_sod",
]
