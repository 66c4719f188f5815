"""The reader driver's own behaviour with scripted ports: URLs, backoff, callbacks, settings."""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path

import pytest
import serial

from drivers.errors import DriverUnavailable, UnknownBackend
from drivers.passport_reader import (
    DocumentRead,
    Framing,
    LinkChanged,
    LinkState,
    ReaderClosed,
    ReadError,
    ReadErrorReason,
    ReaderSettings,
    ReaderSettingsError,
    RteBccScope,
    RteLengthScope,
    SerialPassportReader,
    check_serial_url,
    encode,
)
from drivers.passport_reader.backoff import Backoff
from firmware_app.config import load_config
from firmware_app.config import model as config_model
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[1]
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
FAST = dict(reconnect_min_s=0.01, reconnect_max_s=0.08, line_timeout_s=0.1)


class ScriptedPort:
    """A port that returns the scripted chunks (an exception item is raised), then idles."""

    def __init__(self, script):
        self.script, self.closed = deque(script), False

    in_waiting = 0

    def read(self, size):
        if self.script:
            item = self.script.popleft()
            if isinstance(item, BaseException):
                raise item
            return item
        time.sleep(0.005)
        return b""

    def cancel_read(self):
        pass

    def close(self):
        self.closed = True


def collect(reader, count, timeout_s=3.0):
    events, deadline = [], time.monotonic() + timeout_s
    while len(events) < count and time.monotonic() < deadline:
        event = reader.get_event(0.05)
        if event is not None:
            events.append(event)
    return events


@pytest.mark.parametrize("url", ["/dev/ttyACM0", "/tmp/reader-link", "loop://",
                                 "socket://127.0.0.1:7000", "rfc2217://h:1", "spy://loop://", "COM3"])
def test_serial_urls_accepted(url):
    assert check_serial_url(url) == url


@pytest.mark.parametrize("url", ["sim://", "sim://reader", "ftp://x", "", "   ", "ttyUSB0",
                                 "camera://0", None])
def test_other_urls_refused_with_unknown_backend(url):
    with pytest.raises(UnknownBackend):
        check_serial_url(url)


def test_driver_refuses_sim_url_instead_of_faking_a_reader():
    with pytest.raises(UnknownBackend):
        SerialPassportReader(ReaderSettings(url="sim://"))


def test_backoff_doubles_up_to_the_cap_and_resets():
    backoff = Backoff(0.2, 1.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    assert backoff.next_delay() == 0.2
    with pytest.raises(ValueError):
        Backoff(2.0, 1.0)


def test_reconnect_uses_backoff_and_reports_down_once():
    attempts, slept = [], []
    port = ScriptedPort([encode(Framing.CUTE, TD3)])

    def opener(settings, timeout):
        attempts.append(timeout)
        if len(attempts) <= 4:
            raise serial.SerialException("no such device")
        return port

    settings = ReaderSettings(url="/dev/ttyACM9", reconnect_min_s=0.1, reconnect_max_s=0.5)
    reader = SerialPassportReader(settings, opener=opener, sleep=slept.append).start()
    events = collect(reader, 3)
    reader.close()
    assert [type(e) for e in events] == [LinkChanged, LinkChanged, DocumentRead]
    assert events[0].state is LinkState.DOWN and events[1].state is LinkState.UP
    assert slept[:4] == [0.1, 0.2, 0.4, 0.5]
    assert port.closed


def test_link_loss_mid_frame_reports_truncated_then_down():
    frame = encode(Framing.CUTE, TD3)
    ports = deque([ScriptedPort([frame[:30], OSError(5, "Input/output error")]), ScriptedPort([])])
    reader = SerialPassportReader(ReaderSettings(url="/dev/x", **FAST),
                                  opener=lambda s, t: ports.popleft()).start()
    events = collect(reader, 4)
    reader.close()
    assert events[0] == LinkChanged(LinkState.UP)
    assert isinstance(events[1], ReadError) and events[1].reason is ReadErrorReason.TRUNCATED
    assert events[2].state is LinkState.DOWN and events[3].state is LinkState.UP


def test_idle_timeout_runs_on_the_injected_clock():
    now = [0.0]
    port = ScriptedPort([encode(Framing.CUTE, TD3)[:30]])
    reader = SerialPassportReader(ReaderSettings(url="/dev/x", **FAST), opener=lambda s, t: port,
                                  clock=lambda: now[0]).start()
    assert collect(reader, 1)[0].state is LinkState.UP
    assert reader.get_event(0.3) is None  # real time passes; the injected clock stands still
    now[0] = 5.0
    event = reader.get_event(2.0)
    reader.close()
    assert isinstance(event, ReadError) and event.reason is ReadErrorReason.TRUNCATED


def test_failing_callback_does_not_stop_the_reader():
    frame = encode(Framing.CUTE, TD3)
    port = ScriptedPort([frame, frame])
    seen = []

    def on_event(event):
        seen.append(event)
        if isinstance(event, DocumentRead) and len(seen) == 2:
            raise RuntimeError("consumer bug")

    reader = SerialPassportReader(ReaderSettings(url="/dev/x"), on_event,
                                  opener=lambda s, t: port).start()
    wait_until(lambda: len(seen) >= 3, 3.0, poll_s=0.01)
    reader.close()
    assert [type(e) for e in seen[:3]] == [LinkChanged, DocumentRead, DocumentRead]


def test_start_and_close_return_while_the_port_hangs_opening():
    release = threading.Event()

    def hanging_opener(settings, timeout):
        release.wait(5)
        raise serial.SerialException("gave up")

    reader = SerialPassportReader(ReaderSettings(url="socket://10.0.0.1:1"), opener=hanging_opener)
    caller = threading.Thread(target=lambda: (reader.start(), reader.close(timeout_s=0.05)))
    caller.start()
    caller.join(3)
    hung = caller.is_alive()
    release.set()
    assert not hung
    assert reader.state is LinkState.CLOSED
    with pytest.raises(ReaderClosed):
        reader.start()
    with pytest.raises(ReaderClosed):
        reader.raise_if_unavailable()


def test_no_mrz_text_in_logs_above_debug(caplog):
    frame = encode(Framing.CUTE, TD3)
    ports = deque([ScriptedPort([frame, b"\x1c\x02" + TD3[0].encode(), OSError(5, "EIO")]),
                   ScriptedPort([frame])])
    caplog.set_level(logging.DEBUG, logger="drivers.passport_reader")
    reader = SerialPassportReader(ReaderSettings(url="/dev/x", **FAST),
                                  opener=lambda s, t: ports.popleft()).start()
    collect(reader, 6)
    reader.close()
    loud = " ".join(r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG)
    assert "passport reader unavailable" in loud
    assert "ERIKSSON" not in loud and "L898902C3" not in loud


def test_settings_built_from_the_config_section():
    section = load_config(ROOT / "config" / "default.toml").reader
    values = section.model_dump() | {"url": "/dev/ttyACM0", "framing": config_model.Framing.RTE}
    settings = ReaderSettings.from_mapping(values)
    assert settings.framing is Framing.RTE and settings.rte_bcc_scope is RteBccScope.AFTER_SOH
    assert settings.line_timeout_s == section.line_timeout_s


@pytest.mark.parametrize("pair", [(config_model.Framing, Framing),
                                  (config_model.RteBccScope, RteBccScope),
                                  (config_model.RteLengthScope, RteLengthScope)])
def test_config_choices_match_the_driver(pair):
    config_enum, driver_enum = pair
    assert {m.value for m in config_enum} == {m.value for m in driver_enum}


@pytest.mark.parametrize("bad", [{"reconnect_min_s": 3, "reconnect_max_s": 1},
                                 {"framing": "hdlc"}, {"rte_bcc_scope": "all"},
                                 {"max_frame_bytes": 8}])
def test_settings_reject_what_cannot_work(bad):
    with pytest.raises(ReaderSettingsError):
        ReaderSettings(url="/dev/x", **bad)


def test_internal_fault_reports_down_and_stops_the_thread():
    def broken_opener(settings, timeout):
        raise RuntimeError("bug")

    reader = SerialPassportReader(ReaderSettings(url="/dev/x"), opener=broken_opener).start()
    event = reader.get_event(3.0)
    assert event.state is LinkState.DOWN and isinstance(event.error, DriverUnavailable)
    reader._thread.join(3.0)
    assert not reader.running
    with pytest.raises(DriverUnavailable):
        reader.raise_if_unavailable()
    reader.close()
