"""The officer console over real HTTPS (loopback, test CA), with a real credential file and a real
SQLite audit: login, lockout, session cookie, CSRF, session expiry, stale decisions, evidence,
images, and no personal data in logs above DEBUG. The lane side is a list of submitted events."""
from __future__ import annotations

import logging
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_app.lane.events import OfficerDecision, OfficerVerdict
from firmware_app.officer import AuditAction, ImageKind
from firmware_app.officer.sessions import COOKIE, session_id
from firmware_app.policy import AlertHit, AlertListKind, Decision, Evidence, Finding, Outcome, ReasonCode
from tests.lane_helpers import PASS, good_chip, good_face, mrz
from tests.officer_helpers import OFFICER, PASSWORD, Ticker, console_bench

JPEG = b"\xff\xd8\xff\xe0 test image \xff\xd9"
HIT = AlertHit(AlertListKind.DOCUMENT, "sltd", "2026-12-01", "entry-4711", "stolen")
EVIDENCE = Evidence(mrz(), good_chip(), good_face())


@pytest.fixture
def ticker():
    return Ticker()


@pytest.fixture
def bench(tmp_path, ticker):
    fetched = []

    def images(txn_id, kind):
        fetched.append((txn_id, kind))
        return JPEG
    bench = console_bench(tmp_path, ticker=ticker, images=images, session_s=600.0)
    bench.fetched = fetched
    yield bench
    bench.close()


def signed_in(bench):
    client = bench.client()
    assert client.login().status == 303
    return client


def actions(bench):
    return [(r.officer, r.action, r.txn_id, r.verdict, r.applied) for r in bench.audit.rows()]


def test_login_sets_a_strict_session_cookie_and_is_audited(bench):
    client = bench.client()
    assert client.get("/").status == 303 and client.get("/").headers["location"] == "/login"
    answer = client.login()
    assert answer.status == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        assert attribute in cookie
    page = client.get("/")
    assert page.status == 200 and "No traveller waiting" in page.text and OFFICER in page.text
    assert page.headers["cache-control"].startswith("no-store")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert actions(bench) == [(OFFICER, AuditAction.LOGIN, None, None, None)]


def test_wrong_passwords_lock_the_officer_out_until_the_lockout_ends(bench, ticker):
    client = bench.client()
    for _ in range(3):
        answer = client.login(password="wrong password!")
        assert answer.status == 401 and "Wrong officer id or password" in answer.text
    locked = client.login()                 # the right password, but locked
    assert locked.status == 429 and "try again in 5 min" in locked.text and client.cookie is None
    ticker.now += 301
    assert client.login().status == 303 and client.cookie
    kinds = [a[1] for a in actions(bench)]
    assert kinds == [AuditAction.LOGIN_FAILED] * 3 + [AuditAction.LOCKED_OUT, AuditAction.LOGIN]


def test_an_unknown_officer_is_refused_like_a_wrong_password(bench):
    assert bench.client().login(name="nobody").status == 401


def test_the_pending_traveller_s_evidence_is_shown_with_alert_details(bench):
    decision = Decision.from_findings((Finding(ReasonCode.ALERT_LIST_HIT, Outcome.REJECT, "sltd"),), (HIT,))
    bench.desk.request_review("T-1", decision, EVIDENCE)
    page = signed_in(bench).get("/").text
    document = mrz()
    for shown in ("T-1", "REJECT", "alert_list_hit", "entry-4711", "stolen", "sltd",
                  document.document_number, document.primary_identifier, "Passive authentication",
                  "Presentation attack detection", "/image/portrait/T-1", "/image/live/T-1"):
        assert shown in page, shown
    assert 'value="refer"' in page and 'value="reject"' in page
    assert 'value="accept"' not in page       # an officer never upgrades a lane's refusal


def test_accept_is_offered_for_a_lane_pass_and_reaches_the_lane_once(bench):
    bench.desk.request_review("T-2", PASS, EVIDENCE)
    client = signed_in(bench)
    assert 'value="accept"' in client.get("/").text
    answer = client.decide("T-2", "accept")
    assert answer.status == 303
    assert bench.submitted == [OfficerDecision("T-2", OfficerVerdict.ACCEPT, OFFICER)]
    assert "You answered ACCEPT for transaction T-2" in client.get("/").text
    assert client.decide("T-2", "reject").status == 409      # the first answer won
    assert len(bench.submitted) == 1
    decisions = [a for a in actions(bench) if a[1] is AuditAction.DECISION]
    assert decisions == [(OFFICER, AuditAction.DECISION, "T-2", "accept", True),
                         (OFFICER, AuditAction.DECISION, "T-2", "reject", False)]


def test_a_decision_for_a_stale_transaction_is_refused_and_not_handed_to_the_lane(bench):
    bench.desk.request_review("T-old", PASS, EVIDENCE)
    client = signed_in(bench)
    csrf = client.csrf()
    bench.desk.discard("T-old")                 # the traveller left; the next one comes
    bench.desk.request_review("T-new", PASS, EVIDENCE)
    answer = client.decide("T-old", "accept", csrf)
    assert answer.status == 409 and "no longer waiting" in answer.text
    assert bench.submitted == []
    assert client.decide("T-new", "refer", csrf).status == 303
    assert bench.submitted == [OfficerDecision("T-new", OfficerVerdict.REFER, OFFICER)]


def test_no_answer_is_taken_once_the_lane_s_wait_is_nearly_over(bench, ticker):
    bench.desk.request_review("T-3", PASS, EVIDENCE)
    client = signed_in(bench)
    csrf = client.csrf()
    ticker.now += 59.5          # officer_s is 60: the desk stops a second early, the lane refers
    assert client.decide("T-3", "accept", csrf).status == 409
    assert bench.submitted == [] and "No traveller waiting" in client.get("/").text


@pytest.mark.parametrize("csrf", ["", "forged-token"])
def test_a_decision_without_the_session_s_csrf_token_is_refused(bench, csrf):
    bench.desk.request_review("T-4", PASS, EVIDENCE)
    client = signed_in(bench)
    assert client.decide("T-4", "accept", csrf).status == 403
    assert bench.submitted == [] and bench.desk.pending() is not None


def test_a_post_from_another_origin_is_refused_even_with_the_token(bench):
    bench.desk.request_review("T-5", PASS, EVIDENCE)
    client = signed_in(bench)
    fields = {"csrf": client.csrf(), "txn_id": "T-5", "verdict": "accept"}
    assert client.post("/decision", fields, origin="https://evil.example").status == 403
    assert client.request("POST", "/decision", b"{}", {"Content-Type": "application/json"}).status == 415
    assert bench.submitted == []


def test_a_session_ends_after_its_lifetime(bench, ticker):
    bench.desk.request_review("T-6", PASS, EVIDENCE)
    client = signed_in(bench)
    csrf = client.csrf()
    ticker.now += 601
    assert client.get("/").headers["location"] == "/login"
    assert client.decide("T-6", "accept", csrf).status == 401
    assert client.get("/state").status == 401 and client.get("/image/portrait/T-6").status == 401
    assert bench.submitted == []


def test_logout_ends_the_session(bench):
    client = signed_in(bench)
    answer = client.post("/logout", {"csrf": client.csrf()})
    assert answer.status == 303 and "Max-Age=0" in answer.headers["set-cookie"]
    client.cookie = answer.headers["set-cookie"] and client.cookie   # a client that kept the old id
    assert client.get("/").status == 303 and len(bench.console.sessions) == 0
    assert [a[1] for a in actions(bench)] == [AuditAction.LOGIN, AuditAction.LOGOUT]


def test_images_only_for_a_session_only_of_the_pending_traveller_and_never_cached(bench):
    bench.desk.request_review("T-7", PASS, EVIDENCE)
    assert bench.client().get("/image/portrait/T-7").status == 401
    client = signed_in(bench)
    for kind in ImageKind:
        image = client.get(f"/image/{kind.value}/T-7")
        assert image.status == 200 and image.body == JPEG and image.headers["content-type"] == "image/jpeg"
        assert image.headers["cache-control"].startswith("no-store") and image.headers["pragma"] == "no-cache"
    client.get("/image/portrait/T-7")
    assert bench.fetched == [("T-7", ImageKind.PORTRAIT), ("T-7", ImageKind.LIVE)]   # encoded once each
    assert client.get("/image/portrait/T-other").status == 404
    assert client.get("/image/thumbnail/T-7").status == 404
    bench.desk.discard("T-7")
    assert client.get("/image/portrait/T-7").status == 404


def test_state_tells_the_page_when_to_reload(bench, ticker):
    client = signed_in(bench)
    first = client.get("/state")
    assert first.status == 200 and '"txn_id": null' in first.text
    bench.desk.request_review("T-8", PASS, EVIDENCE)
    ticker.now += 10
    state = client.get("/state").text
    assert '"txn_id": "T-8"' in state and '"seconds_left": 49.0' in state
    assert re.search(r'"version": (\d+)', state).group(1) != re.search(r'"version": (\d+)', first.text).group(1)


def test_the_console_speaks_tls_only(bench):
    import socket
    with socket.create_connection(("127.0.0.1", bench.console.port), timeout=5) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = plain.recv(1024)
        except ConnectionResetError:
            answer = b""
        assert b"HTTP/1." not in answer     # a TLS alert or a reset, never a page


def test_no_personal_data_in_logs_above_debug(bench, caplog):
    caplog.set_level(logging.DEBUG)
    decision = Decision.from_findings((Finding(ReasonCode.ALERT_LIST_HIT, Outcome.REJECT, "sltd"),), (HIT,))
    bench.desk.request_review("T-9", decision, EVIDENCE)
    client = signed_in(bench)
    client.get("/")
    client.get("/image/live/T-9")
    client.decide("T-9", "reject")
    client.login(password="wrong password!")
    document = mrz()
    loud = " ".join(r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG)
    for secret in (document.document_number, document.primary_identifier, "entry-4711", PASSWORD):
        assert secret not in loud
    assert "T-9" in loud        # ids are fine: the audit trail needs them


def test_a_form_with_too_many_fields_is_refused_not_dropped(bench):
    answer = bench.client().post("/login", {f"field{n}": "x" for n in range(9)})
    assert answer.status == 400 and [r.action for r in bench.audit.rows()] == []


def test_an_answer_the_audit_cannot_record_is_not_handed_to_the_lane(bench):
    bench.desk.request_review("T-10", PASS, EVIDENCE)
    client = signed_in(bench)
    csrf = client.csrf()
    bench.audit.close()                         # the audit database is gone (disk, corruption)
    answer = client.decide("T-10", "accept", csrf)
    assert answer.status == 503 and "lane will refer" in answer.text
    assert bench.submitted == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=600), content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "text/plain"]))
def test_any_decision_body_without_the_token_is_refused_and_changes_nothing(bench, body, content_type):
    if bench.desk.pending() is None:
        bench.desk.request_review("T-11", PASS, EVIDENCE)
    client = bench.client()
    client.cookie = getattr(bench, "fuzz_cookie", None)
    if client.cookie is None:
        client.login()
        bench.fuzz_cookie = client.cookie
    answer = client.request("POST", "/decision", body, {"Content-Type": content_type,
                                                         "Origin": f"https://127.0.0.1:{client.port}"})
    assert answer.status in (400, 403, 415)
    assert bench.submitted == [] and bench.desk.pending() is not None


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_any_cookie_header_gives_a_bounded_session_id_or_none(header):
    found = session_id(header)
    assert found is None or (0 < len(found) <= 128 and f"{COOKIE}={found}" in header)
