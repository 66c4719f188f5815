"""The kiosk web server: loopback only, one page, live state by server-sent events.

    kiosk = KioskServer(on_input=lane_events.put, port=8080)
    kiosk.start()
    kiosk.show(KioskView(Screen.WELCOME))

`on_input` is called from a server thread with a TravellerInput; the lane should only queue it.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path

from .assets import STATIC_DIR, load_assets, with_wording
from .audio import audio_table
from .auth import load_or_create_token, new_token
from .channel import StateChannel
from .errors import KioskConfigError, RequestRejected
from .http_handler import KioskRequestHandler
from .inputs import InputKind, TravellerInput
from .languages import RESET_SCREENS, SUPPORTED, LanguageState, text_direction
from .view import KioskView, Screen

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
MIN_INPUT_INTERVAL_S = 0.3  # per kind of input
SHUTDOWN_POLL_S = 0.05  # how often serve_forever looks for stop(); a cheap select() wake-up
# Until the lane says otherwise the lane is not serving travellers.
STARTING_VIEW = KioskView(Screen.OUT_OF_SERVICE)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    kiosk: KioskServer          # set before serving: the request handlers reach the kiosk through it

    def handle_error(self, request, client_address) -> None:
        log.debug("kiosk connection error", exc_info=True)


class KioskServer:
    def __init__(self, on_input: Callable[[TravellerInput], None], *, port: int = 8080,
                 offered: tuple[str, ...] = SUPPORTED, default_language: str = "en",
                 follow_nationality: bool = True, max_clients: int = 4, heartbeat_s: float = 4.0,
                 idle_language_reset_s: float = 60.0, static_dir: Path = STATIC_DIR,
                 clock: Callable[[], float] = time.monotonic, token: str | None = None,
                 audio_dir: Path | None = None):
        self._on_input = on_input
        self._requested_port = port
        self.offered = tuple(offered)
        self.heartbeat_s = heartbeat_s
        # Only the kiosk browser holding this may watch the screen or press its buttons (auth.py).
        self.token = token if token is not None else new_token()
        self.assets = load_assets(self.offered, static_dir)
        # Spoken prompts (audio.py): played by the page only when audio_dir is set and holds them.
        self.audio = audio_table(audio_dir, self.offered, static_dir) if audio_dir is not None else {}
        self._audio_source = (audio_dir, static_dir)
        self.channel = StateChannel(max_clients)
        self._languages = LanguageState(self.offered, default_language, follow_nationality)
        self._lock = threading.Lock()
        self._clock = clock
        self._view = STARTING_VIEW
        self._shown_at = clock()
        self._last_input_at: dict[InputKind, float] = {}
        self._idle_reset_s = idle_language_reset_s
        self._idle_timer: threading.Timer | None = None
        self._changes = 0  # views shown + languages chosen; tells the idle reset whether anything happened
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self.show(STARTING_VIEW)

    def reword(self, wording: dict[str, dict[str, str]]) -> None:
        """Before start: replace some texts (language -> key -> text), e.g. a one-stop authority's."""
        self.assets = with_wording(self.assets, wording)
        audio_dir, static_dir = self._audio_source
        if audio_dir is not None:       # the spoken prompts say what the screens now say
            self.audio = audio_table(audio_dir, self.offered, static_dir, wording)

    @classmethod
    def from_config(cls, section, on_input: Callable[[TravellerInput], None]) -> KioskServer:
        """Build from config.model.KioskSection (the token from kiosk.token_file when set)."""
        token = None
        if section.token_file is not None:
            token = load_or_create_token(section.token_file, section.token_group)
        return cls(on_input, port=section.port, offered=tuple(section.languages),
                   default_language=section.default_language,
                   follow_nationality=section.follow_nationality, max_clients=section.max_clients,
                   idle_language_reset_s=section.idle_language_reset_s, token=token,
                   audio_dir=section.audio_dir)

    @property
    def port(self) -> int:
        if self._http is None:
            raise KioskConfigError("kiosk server is not started")
        return self._http.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/"

    def auth_headers(self) -> dict[str, str]:
        """Headers that let a program (a test, the bench) act as the kiosk browser."""
        return {"Authorization": f"Bearer {self.token}"}

    def start(self) -> None:
        try:
            self._http = _HttpServer((LOOPBACK, self._requested_port), KioskRequestHandler)
        except OSError as exc:
            where = f"{LOOPBACK}:{self._requested_port}"
            raise KioskConfigError(f"kiosk cannot listen on {where}: {exc.strerror}") from None
        self._http.kiosk = self
        self._thread = threading.Thread(target=self._http.serve_forever, args=(SHUTDOWN_POLL_S,),
                                        name="kiosk-http", daemon=True)
        self._thread.start()
        log.info("kiosk page on %s", self.url)

    def stop(self) -> None:
        with self._lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
        self.channel.close()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._http = None

    def show(self, view: KioskView) -> None:
        """Push a view to every open page (the newest view wins)."""
        if not isinstance(view, KioskView):
            raise TypeError("show() takes a KioskView")
        with self._lock:
            self._view = view
            self._changes += 1
            self._shown_at = self._clock()
            self._publish(self._languages.on_view(view))

    def current(self) -> tuple[KioskView, str]:
        with self._lock:
            return self._view, self._languages.current

    def receive(self, traveller_input: TravellerInput) -> None:
        """A traveller's input from the page: apply a language choice here, pass everything on."""
        self._throttle(traveller_input.kind)
        if traveller_input.kind is InputKind.LANGUAGE:
            with self._lock:
                self._changes += 1
                self._publish(self._languages.choose(traveller_input.language or ""))    # "": not offered
                self._arm_idle_reset()
        try:
            self._on_input(traveller_input)
        except Exception as exc:  # the lane's problem, but the page must get an answer, not a dead socket
            # Type only above DEBUG: a message could carry traveller data.
            log.error("lane callback failed on kiosk input %s: %s", traveller_input.kind.value, type(exc).__name__)
            log.debug("lane callback failure", exc_info=True)
            raise RequestRejected(503, "lane unavailable") from None

    def _arm_idle_reset(self) -> None:
        """A language chosen at the welcome screen by someone who then walks away must not greet the
        next traveller: if nothing happens for a while, go back to the default."""
        if self._view.screen not in RESET_SCREENS:
            return
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = threading.Timer(self._idle_reset_s, self._idle_reset, args=(self._changes,))
        self._idle_timer.daemon = True
        self._idle_timer.start()

    def _idle_reset(self, changes_when_armed: int) -> None:
        with self._lock:
            if self._changes == changes_when_armed and self._view.screen in RESET_SCREENS:
                self._publish(self._languages.reset())

    def _throttle(self, kind: InputKind) -> None:
        """A held or hammered button reaches the lane once per interval, not once per tap.
        Language taps are free: a traveller may look through the languages quickly."""
        if kind is InputKind.LANGUAGE:
            return
        now = self._clock()
        with self._lock:
            last = self._last_input_at.get(kind)
            if last is not None and now - last < MIN_INPUT_INTERVAL_S:
                raise RequestRejected(429, "too many requests")
            self._last_input_at[kind] = now

    def _publish(self, language: str) -> None:
        view = self._view.as_dict()
        view.pop("language_hint")  # the page needs the language, not the traveller's nationality
        if view["seconds_left"] is not None:  # a re-push (language change) must not restart the countdown
            elapsed = self._clock() - self._shown_at
            view["seconds_left"] = round(max(0.0, view["seconds_left"] - elapsed), 1)
        state = {"view": view, "language": language, "dir": text_direction(language), "languages": self.offered,
                 "language_chosen": self._languages.settled, "audio": bool(self.audio)}
        self.channel.publish(json.dumps(state, separators=(",", ":")))
