"""The kiosk server over real HTTP on loopback: page, event stream, traveller inputs, refusals."""
from __future__ import annotations

import http.client
import json
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.config.model import KioskSection
from firmware_app.kiosk.errors import KioskConfigError, RequestRejected
from firmware_app.kiosk.http_handler import is_loopback
from firmware_app.kiosk.inputs import InputKind, TravellerInput, parse_input
from firmware_app.kiosk.languages import SUPPORTED
from firmware_app.kiosk.server import KioskServer
from firmware_app.kiosk.view import KioskView, Screen
from tests.fakes import ManualClock


@pytest.fixture
def received():
    return []


@pytest.fixture
def clock():
    return ManualClock(100.0)


@pytest.fixture
def kiosk(received, clock):
    server = KioskServer(received.append, port=0, heartbeat_s=0.2, max_clients=2, clock=clock)
    server.start()
    yield server
    server.stop()


def request(kiosk, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", kiosk.port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def post(kiosk, path, data, auth=True, **headers):
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return request(kiosk, "POST", path, body, {"Content-Type": "application/json",
                                               "Origin": f"http://127.0.0.1:{kiosk.port}",
                                               **(kiosk.auth_headers() if auth else {}), **headers})


class EventStream:
    def __init__(self, kiosk, timeout: float = 5.0, headers: dict | None = None):
        self.conn = http.client.HTTPConnection("127.0.0.1", kiosk.port, timeout=timeout)
        self.conn.request("GET", "/events", headers=kiosk.auth_headers() if headers is None else headers)
        self.response = self.conn.getresponse()

    def next_view(self) -> dict:
        """The next `view` event's data (skipping pings)."""
        event, data = None, None
        while True:
            line = self.response.fp.readline().decode()
            if line == "":
                raise EOFError("stream closed")
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: "):
                data = line[6:].strip()
            elif line == "\n" and event == "view":
                return json.loads(data)

    def close(self):
        self.conn.close()


def test_the_page_its_files_and_texts_are_served_with_a_strict_policy(kiosk):
    response, body = request(kiosk, "GET", "/")
    assert response.status == 200 and b'id="assistance"' in body
    assert "script-src 'self'" in response.getheader("Content-Security-Policy")
    assert response.getheader("Cache-Control") == "no-store"
    for path in ("/static/app.js", "/static/style.css", "/i18n/ar.json", "/healthz"):
        assert request(kiosk, "GET", path)[0].status == 200, path
    assert json.loads(request(kiosk, "GET", "/i18n/zh.json")[1])["language_name"] == "中文"


@pytest.mark.parametrize("path", ["/nope", "/static/../server.py", "/static/%2e%2e/view.py", "/i18n/de.json",
                                  "/i18n/../../view.py"])
def test_unknown_paths_are_not_found(kiosk, path):
    assert request(kiosk, "GET", path)[0].status == 404


def test_a_foreign_host_header_is_refused(kiosk):
    assert request(kiosk, "GET", "/", headers={"Host": "evil.example:80"})[0].status == 421
    assert request(kiosk, "GET", "/", headers={"Host": f"localhost:{kiosk.port}"})[0].status == 200


def test_the_server_listens_on_loopback_only(kiosk):
    assert kiosk._http.server_address[0] == "127.0.0.1"


def test_a_busy_port_is_a_config_error(kiosk):
    other = KioskServer(lambda _: None, port=kiosk.port)
    with pytest.raises(KioskConfigError):
        other.start()


@pytest.mark.parametrize("address, loopback", [("127.0.0.1", True), ("127.5.5.5", True), ("::1", True),
                                               ("10.0.0.7", False), ("192.168.1.2", False), ("nonsense", False)])
def test_loopback_check(address, loopback):
    assert is_loopback(address) is loopback


def test_the_stream_starts_with_the_current_view_and_follows_show(kiosk):
    stream = EventStream(kiosk)
    try:
        assert stream.next_view()["view"]["screen"] == "out_of_service"
        kiosk.show(KioskView(Screen.READING_CHIP, 2, 5, language_hint="MEX"))
        state = stream.next_view()
        assert state["view"]["screen"] == "reading_chip" and state["language"] == "es" and state["dir"] == "ltr"
        assert "language_hint" not in state["view"]  # the nationality never leaves the server
        assert state["languages"] == list(SUPPORTED)
    finally:
        stream.close()


def test_choosing_a_language_republishes_without_restarting_the_countdown(kiosk, received, clock):
    kiosk.show(KioskView(Screen.LOOK_AT_CAMERA, 3, 5, seconds_left=20.0))
    stream = EventStream(kiosk)
    try:
        assert stream.next_view()["view"]["seconds_left"] == 20.0
        clock.now += 5
        response, _ = post(kiosk, "/api/language", {"language": "ar"})
        assert response.status == 202
        state = stream.next_view()
        assert (state["language"], state["dir"], state["view"]["seconds_left"]) == ("ar", "rtl", 15.0)
        assert received == [TravellerInput(InputKind.LANGUAGE, "ar")]
    finally:
        stream.close()


def test_a_language_chosen_at_welcome_lapses_when_nobody_starts(received):
    server = KioskServer(received.append, port=0, idle_language_reset_s=0.2)
    server.start()
    try:
        server.show(KioskView(Screen.WELCOME))
        stream = EventStream(server, timeout=0.6)
        assert stream.next_view()["language"] == "en"
        post(server, "/api/language", {"language": "zh"})
        assert stream.next_view()["language"] == "zh"
        assert stream.next_view()["language"] == "en"  # after the idle time, with no new view
        post(server, "/api/language", {"language": "ru"})
        assert stream.next_view()["language"] == "ru"
        server.show(KioskView(Screen.READING_DOCUMENT, 1, 5))  # a traveller started: the choice stays
        assert stream.next_view()["language"] == "ru"
        with pytest.raises(TimeoutError):
            stream.next_view()  # no reset arrives within three idle times
        stream.close()
    finally:
        server.stop()


def test_more_time_and_assistance_reach_the_lane(kiosk, received):
    assert post(kiosk, "/api/more-time", {})[0].status == 202
    assert post(kiosk, "/api/assistance", b"")[0].status == 202
    assert [i.kind for i in received] == [InputKind.MORE_TIME, InputKind.ASSISTANCE]


def test_a_hammered_button_reaches_the_lane_once_per_interval(kiosk, received, clock):
    assert [post(kiosk, "/api/assistance", {})[0].status for _ in range(3)] == [202, 429, 429]
    clock.now += 0.5
    assert post(kiosk, "/api/assistance", {})[0].status == 202
    assert post(kiosk, "/api/more-time", {})[0].status == 202  # another button is not held back
    assert [i.kind for i in received] == [InputKind.ASSISTANCE] * 2 + [InputKind.MORE_TIME]
    assert [post(kiosk, "/api/language", {"language": lang})[0].status for lang in ("fr", "es")] == [202, 202]


@pytest.mark.parametrize("path, body, headers, status", [
    ("/api/language", {"language": "fr"}, {"Origin": "http://evil.example"}, 403),
    ("/api/language", {"language": "fr"}, {"Content-Type": "text/plain"}, 415),
    ("/api/language", b"x" * 300, {}, 413),
    ("/api/language", b"{not json", {}, 400),
    ("/api/language", [1, 2], {}, 400),
    ("/api/language", {"language": "de"}, {}, 422),
    ("/api/language", {"language": "fr", "x": 1}, {}, 422),
    ("/api/assistance", {"reason": "x"}, {}, 422),
    ("/api/open-doors", {}, {}, 404),
])
def test_bad_inputs_are_refused_and_never_reach_the_lane(kiosk, received, path, body, headers, status):
    assert post(kiosk, path, body, **headers)[0].status == status
    assert received == []


def test_a_post_without_length_is_refused(kiosk, received):
    with socket.create_connection(("127.0.0.1", kiosk.port), timeout=5) as sock:
        sock.sendall(f"POST /api/assistance HTTP/1.0\r\nHost: 127.0.0.1:{kiosk.port}\r\n"
                     f"Authorization: Bearer {kiosk.token}\r\nContent-Type: application/json\r\n\r\n".encode())
        assert b" 411 " in sock.recv(200)
    assert received == []


@pytest.mark.parametrize(("body", "length", "status"), [
    (b"token=a&b=1&c=2", None, 400),     # more fields than the form has: refused, not a dropped connection
    (b"token=a", "+7", 411),             # a length int() would take but HTTP does not
    (b"token=a", "99", 400),             # the peer sends less than it announced, then stops writing
])
def test_a_hostile_session_form_is_answered_with_a_refusal(kiosk, body, length, status):
    with socket.create_connection(("127.0.0.1", kiosk.port), timeout=5) as sock:
        sock.sendall(f"POST /session HTTP/1.0\r\nHost: 127.0.0.1:{kiosk.port}\r\n"
                     f"Content-Type: application/x-www-form-urlencoded\r\n"
                     f"Content-Length: {length or len(body)}\r\n\r\n".encode() + body)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(200).startswith(f"HTTP/1.0 {status} ".encode())


def test_a_failing_lane_callback_gives_503_and_the_server_keeps_serving(clock):
    def broken(_):
        raise RuntimeError("lane queue gone")
    server = KioskServer(broken, port=0)
    server.start()
    try:
        assert post(server, "/api/assistance", {})[0].status == 503
        assert request(server, "GET", "/healthz")[0].status == 200
    finally:
        server.stop()


def test_event_streams_are_bounded_newest_first_and_closed_on_stop(received):
    server = KioskServer(received.append, port=0, max_clients=2, heartbeat_s=0.2)
    server.start()
    streams = [EventStream(server), EventStream(server)]
    for stream in streams:
        stream.next_view()
    newest = EventStream(server)   # all taken: the oldest is ended, the newest kiosk page is served
    assert newest.next_view()["view"]["screen"] == "out_of_service"
    with pytest.raises(EOFError):
        while True:
            streams[0].next_view()
    assert server.channel.clients == 2
    server.stop()
    for stream in streams[1:] + [newest]:
        with pytest.raises(EOFError):
            stream.next_view()
        stream.close()


def test_an_unprivileged_local_client_holding_streams_cannot_block_the_kiosk(received):
    """Without the token: 401 before any stream slot is taken, however many connections it opens;
    the kiosk's own stream is served all along."""
    server = KioskServer(received.append, port=0, max_clients=2, heartbeat_s=0.2)
    server.start()
    try:
        wrong = {"Authorization": "Bearer " + "0" * 64}
        intruders = [EventStream(server, headers=h) for h in [{}] * 6 + [wrong] * 4
                     + [{"Cookie": "kiosk_session=" + "1" * 64}] * 2]
        assert [i.response.status for i in intruders] == [401] * 12
        assert server.channel.clients == 0
        kiosk = EventStream(server)
        assert kiosk.response.status == 200 and kiosk.next_view()["view"]["screen"] == "out_of_service"
        for intruder in intruders:
            intruder.close()
        kiosk.close()
    finally:
        server.stop()


@pytest.mark.parametrize("path, body", [("/api/assistance", {}), ("/api/more-time", {}),
                                        ("/api/language", {"language": "fr"})])
def test_an_unauthenticated_button_press_is_refused(kiosk, received, path, body):
    assert post(kiosk, path, body, auth=False)[0].status == 401
    assert post(kiosk, path, body, auth=False, Authorization="Bearer " + "a" * 64)[0].status == 401
    assert received == []


def test_the_start_page_form_gets_the_session_cookie_only_with_the_token(kiosk):
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "null"}
    response, _ = request(kiosk, "POST", "/session", f"token={kiosk.token}".encode(), form)
    assert response.status == 303 and response.getheader("Location") == "/"
    cookie = response.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert request(kiosk, "POST", "/session", b"token=" + b"f" * 64, form)[0].status == 403
    stream = EventStream(kiosk, headers={"Cookie": cookie.split(";")[0]})
    assert stream.next_view()["view"]["screen"] == "out_of_service"
    stream.close()


def test_show_takes_only_a_view(kiosk):
    with pytest.raises(TypeError):
        kiosk.show({"screen": "welcome"})


def test_from_config_uses_the_kiosk_section():
    server = KioskServer.from_config(KioskSection(port=8099, languages=["fr", "en"], default_language="fr"),
                                     lambda _: None)
    assert server.offered == ("fr", "en") and server.current()[1] == "fr"


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(list(InputKind)), body=st.one_of(
    st.binary(max_size=300),
    st.dictionaries(st.text(max_size=10), st.one_of(st.none(), st.text(max_size=5), st.integers()), max_size=3)
      .map(lambda d: json.dumps(d).encode())))
def test_any_post_body_parses_or_is_a_typed_refusal(kind, body):
    try:
        parsed = parse_input(kind, body, SUPPORTED)
    except RequestRejected as exc:
        assert 400 <= exc.status < 500
    else:
        assert parsed.kind is kind
        assert parsed.language is None or parsed.language in SUPPORTED


_methods = st.sampled_from(["GET", "POST", "PUT", "HEAD", "DELETE", "G\x00T", ""])
_paths = st.sampled_from(["/", "/events", "/api/language", "/api/assistance", "/../../etc/passwd", "*", ""]) | \
    st.text(max_size=40)
_headers = st.lists(st.tuples(st.sampled_from(["Host", "Content-Length", "Content-Type", "Origin", "X"]),
                              st.text(max_size=30)), max_size=4)


@pytest.fixture(scope="module")
def fuzz_kiosk():
    """One server for all examples (starting one per example would dominate the run time)."""
    server = KioskServer(lambda _: None, port=0)
    server.start()
    yield server
    server.stop()


@settings(max_examples=60, deadline=None)
@given(method=_methods, path=_paths, headers=_headers, body=st.binary(max_size=64))
def test_hostile_raw_requests_get_a_refusal_and_the_server_keeps_serving(fuzz_kiosk, method, path, headers, body):
    head = f"{method} {path} HTTP/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    with socket.create_connection(("127.0.0.1", fuzz_kiosk.port), timeout=5) as sock:
        sock.sendall(head.encode("utf-8", "surrogatepass") + body)
        sock.shutdown(socket.SHUT_WR)  # a short body ends at EOF instead of waiting out the timeout
        answer = sock.recv(64)
    # HTTP/1.x status line; or, for a two-word line the stdlib takes as HTTP/0.9, a bare refusal body.
    assert answer == b"" or answer.startswith((b"HTTP/1.", b'{"ok": false'))
    assert request(fuzz_kiosk, "GET", "/healthz")[0].status == 200
