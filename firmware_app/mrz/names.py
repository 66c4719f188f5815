"""Holder names: splitting the MRZ name field, and comparing names across MRZ, chip and lists.

ICAO 9303 Part 3 lets issuers transliterate one letter in several ways (Ä -> AE or A, Ñ -> N or
NXX, Ukrainian Г -> H or G), so a comparison normalises both sides into a few variants and
matches when any variant agrees.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# Letters that do not decompose in Unicode, or whose ICAO spelling is longer than the base letter.
_LATIN_FIXED = {
    "Æ": "AE", "Œ": "OE", "ß": "SS", "Þ": "TH", "Ð": "D", "Đ": "D", "Ł": "L", "Ħ": "H",
    "ı": "I", "Ŧ": "T", "Ŋ": "N", "Ĳ": "IJ", "ĸ": "K", "Ŀ": "L",
}
# German/Nordic style: the recommended spelling of Part 3.
_LATIN_EXPANDED = {"Ä": "AE", "Ö": "OE", "Ü": "UE", "Å": "AA", "Ø": "OE", "Ñ": "NXX"}
# The spelling without the diacritic, also common in issued documents.
_LATIN_SIMPLE = {"Ø": "O"}

_CYRILLIC = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Ґ": "G", "Д": "D", "Е": "E", "Ё": "E", "Є": "IE",
    "Ж": "ZH", "З": "Z", "И": "I", "І": "I", "Ї": "I", "Й": "I", "К": "K", "Л": "L", "М": "M",
    "Н": "N", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U", "Ў": "U", "Ф": "F",
    "Х": "KH", "Ц": "TS", "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "",
    "Э": "E", "Ю": "IU", "Я": "IA",
}
_UKRAINIAN = {"Г": "H", "И": "Y"}  # Part 3 exceptions for the Ukrainian language

_GREEK = {
    "Α": "A", "Β": "V", "Γ": "G", "Δ": "D", "Ε": "E", "Ζ": "Z", "Η": "I", "Θ": "TH", "Ι": "I",
    "Κ": "K", "Λ": "L", "Μ": "M", "Ν": "N", "Ξ": "X", "Ο": "O", "Π": "P", "Ρ": "R", "Σ": "S",
    "Τ": "T", "Υ": "Y", "Φ": "F", "Χ": "CH", "Ψ": "PS", "Ω": "O",
}

_SEPARATORS = {"<": " ", "-": " ", ",": " ", "'": "", "’": "", ".": ""}

_BASE = {**_LATIN_FIXED, **_CYRILLIC, **_GREEK, **_SEPARATORS}
_POLICIES: tuple[dict[str, str], ...] = (
    {**_BASE, **_LATIN_EXPANDED},
    {**_BASE, **_LATIN_SIMPLE},
    {**_BASE, **_LATIN_EXPANDED, **_UKRAINIAN},
)
MAX_NAME_INPUT = 1000


# Fields with repr=False hold personal or biometric data: kept out of logs and tracebacks.
@dataclass(frozen=True, slots=True)
class NameParts:
    primary: str = field(repr=False)
    secondary: str = field(repr=False)
    possibly_truncated: bool


def split_name_field(raw: str) -> NameParts:
    """Split 'ERIKSSON<<ANNA<MARIA<<<' into components joined by one space."""
    primary_raw, _, secondary_raw = raw.partition("<<")
    return NameParts(
        primary=" ".join(primary_raw.replace("<", " ").split()),
        secondary=" ".join(secondary_raw.replace("<", " ").split()),
        # A full field ending in a letter may have been cut by the issuer (Part 3, 4.6).
        possibly_truncated=bool(raw) and raw[-1] != "<",
    )


# Digraphs transliterated as a unit (Greek ΟΥ is OU, not OY).
_DIGRAPHS = {"ΟΥ": "OU", "ΌΥ": "OU", "ΟΎ": "OU"}


def _transliterate(name: str, table: dict[str, str]) -> str:
    for digraph, latin in _DIGRAPHS.items():
        name = name.replace(digraph, latin)
    out = []
    for char in name:
        if char in table:
            out.append(table[char])
            continue
        # Strip diacritics (É -> E, Č -> C, Ά -> Α) and retry the table on the base letter.
        base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        out.append(table.get(base, base if base.isascii() and base.isalpha() else " "))
    return " ".join("".join(out).split())


def _prepare(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError("a name must be a str")
    return unicodedata.normalize("NFC", name[:MAX_NAME_INPUT]).upper()


def name_variants(name: str) -> frozenset[str]:
    """Every ICAO spelling of `name` in MRZ letters, components separated by one space."""
    prepared = _prepare(name)
    return frozenset(_transliterate(prepared, table) for table in _POLICIES)


def normalise_name(name: str) -> str:
    """The recommended ICAO spelling (Ä -> AE, Ø -> OE, ß -> SS, Cyrillic per Part 3)."""
    return _transliterate(_prepare(name), _POLICIES[0])


def names_match(a: str, b: str, *, allow_truncation: bool = False) -> bool:
    """True when some transliteration of `a` equals one of `b`.

    With `allow_truncation`, a shorter side also matches as a prefix (MRZ names may be cut).
    """
    return spellings_overlap(name_variants(a), name_variants(b), allow_truncation=allow_truncation)


def spellings_overlap(left: Iterable[str], right: Iterable[str], *, allow_truncation: bool = False) -> bool:
    """True when the two sets of spellings share one; with `allow_truncation` a non-empty spelling
    that is a prefix of the other also counts (the MRZ may cut a long name, ICAO 9303 Part 3, 4.6)."""
    left, right = frozenset(left), frozenset(right)
    if left & right:
        return True
    if not allow_truncation:
        return False
    return any(x and y and (x.startswith(y) or y.startswith(x)) for x in left for y in right)
