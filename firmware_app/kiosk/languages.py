"""Which language the screen speaks: the traveller's choice, else the document's nationality.

Pure logic: no I/O, no clock. The server keeps one LanguageState and feeds it every view it shows.
"""
from __future__ import annotations

from .errors import KioskError
from .view import KioskView, Screen

SUPPORTED = ("en", "fr", "es", "ar", "ru", "zh")
RIGHT_TO_LEFT = frozenset({"ar"})

# Nationality (ICAO 9303 code, mostly ISO 3166 alpha-3) -> the kiosk language most holders read.
# Only countries whose main official language is one we ship; everyone else gets the default.
_BY_LANGUAGE = {
    "en": "GBR GBD GBN GBO GBP GBS USA IRL AUS NZL CAN JAM TTO BHS BRB GHA NGA KEN UGA ZMB ZWE MWI "
          "BWA LBR SLE GMB FJI PNG MLT",
    "fr": "FRA MCO SEN CIV MLI BFA NER GIN BEN TGO GAB COG COD MDG HTI",
    "es": "ESP MEX ARG COL PER VEN CHL ECU GTM CUB BOL DOM HND PRY SLV NIC CRI PAN URY GNQ",
    "ar": "SAU ARE EGY IRQ JOR KWT LBN LBY MAR OMN QAT SYR TUN YEM BHR DZA SDN PSE MRT",
    "ru": "RUS BLR KAZ KGZ",
    "zh": "CHN TWN MAC",
}
NATIONALITY_LANGUAGE: dict[str, str] = {
    code: language for language, codes in _BY_LANGUAGE.items() for code in codes.split()
}

# Screens where nobody is in the middle of a transaction: the next traveller starts afresh.
RESET_SCREENS = frozenset({Screen.WELCOME, Screen.CLOSED})


class UnknownLanguage(KioskError, ValueError):
    """A language this kiosk does not offer."""


def text_direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def language_for_nationality(nationality: str | None, offered: tuple[str, ...], default: str) -> str:
    language = NATIONALITY_LANGUAGE.get(nationality or "")
    return language if language in offered else default


class LanguageState:
    """The traveller's explicit choice wins; the document's nationality sets the default once read."""

    def __init__(self, offered: tuple[str, ...], default: str, follow_nationality: bool = True):
        if default not in offered:
            raise UnknownLanguage(f"default language {default!r} is not offered")
        self.offered = tuple(offered)
        self.default = default
        self.follow_nationality = follow_nationality
        self._chosen: str | None = None
        self._from_document: str | None = None
        self._last_screen: Screen | None = None

    @property
    def settled(self) -> bool:
        """A traveller chose, or a document set, the language (the welcome screen stops cycling)."""
        return self._chosen is not None or self._from_document is not None

    @property
    def current(self) -> str:
        return self._chosen or self._from_document or self.default

    def choose(self, language: str) -> str:
        if language not in self.offered:
            raise UnknownLanguage(f"language {language!r} is not offered")
        self._chosen = language
        return language

    def reset(self) -> str:
        """Forget the last traveller's choice and document (the next one starts from the default)."""
        self._chosen = self._from_document = None
        return self.current

    def on_view(self, view: KioskView) -> str:
        """Update from the view the lane shows next; returns the language to render it in."""
        if view.screen in RESET_SCREENS and self._last_screen not in RESET_SCREENS:
            self.reset()
        self._last_screen = view.screen
        if view.language_hint and self.follow_nationality and view.screen not in RESET_SCREENS:
            self._from_document = language_for_nationality(view.language_hint, self.offered, self.default)
        return self.current
