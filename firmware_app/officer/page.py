"""The console's HTML, rendered on the server (no data in scripts; the one script only polls
/state and reloads when the pending review changes). Every value is escaped.

The page is for officers only: it shows alert-list hits in full, the document fields, and the
chip portrait next to the live frame. None of this is ever sent to the kiosk.
"""
from __future__ import annotations

from html import escape
from urllib.parse import quote

from firmware_app.lane.events import OfficerVerdict

from .review import ImageKind, PendingReview
from .sessions import Session

_VERDICT_LABELS = {OfficerVerdict.ACCEPT: "Accept: let the traveller through",
                   OfficerVerdict.REFER: "Refer to the officer desk",
                   OfficerVerdict.REJECT: "Reject entry"}


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _layout(title: str, body: str, *, version: int | None = None) -> str:
    data = f' data-version="{version}"' if version is not None else ""
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><link rel=\"stylesheet\" href=\"/static/officer.css\">"
            f"<script src=\"/static/officer.js\" defer></script></head><body{data}>{body}</body></html>\n")


def login_page(device_id: str, message: str = "") -> str:
    alert = f'<p class="notice" role="alert">{_e(message)}</p>' if message else ""
    body = (f"<header><h1>Officer console: gate {_e(device_id)}</h1></header><main>"
            f"<h2>Sign in</h2>{alert}<form method=\"post\" action=\"/login\" class=\"login\">"
            "<label for=\"name\">Officer id</label>"
            "<input id=\"name\" name=\"name\" autocomplete=\"username\" required maxlength=\"32\">"
            "<label for=\"password\">Password</label>"
            "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" "
            "required maxlength=\"256\"><button type=\"submit\">Sign in</button></form></main>")
    return _layout(f"Sign in: gate {device_id}", body)


def console_page(device_id: str, session: Session, review: PendingReview | None, seconds_left: float,
                 version: int, notice: str = "") -> str:
    header = (f"<header><h1>Officer console: gate {_e(device_id)}</h1><p>Signed in as "
              f"<strong>{_e(session.officer)}</strong></p><form method=\"post\" action=\"/logout\">"
              f"{_csrf(session)}<button type=\"submit\">Sign out</button></form></header>")
    shown = f'<p class="notice" role="status">{_e(notice)}</p>' if notice else ""
    main = _review(review, session, seconds_left) if review is not None else \
        "<h2>No traveller waiting</h2><p>This page updates by itself when the lane asks for a review.</p>"
    title = "Traveller waiting" if review is not None else "No traveller waiting"
    return _layout(f"{title}: gate {device_id}", f"{header}<main>{shown}{main}</main>", version=version)


def _csrf(session: Session) -> str:
    return f'<input type="hidden" name="csrf" value="{_e(session.csrf)}">'


def _review(review: PendingReview, session: Session, seconds_left: float) -> str:
    decision = review.decision
    return (f"<h2>Traveller waiting: transaction {_e(review.txn_id)}</h2>"
            f"<p class=\"deadline\">Answer within <span id=\"seconds-left\">{seconds_left:.0f}</span> s; "
            "without an answer the traveller is referred.</p>"
            f"{_alerts(decision)}<div class=\"at-a-glance\">{_images(review)}{_answer_form(review, session)}</div>"
            f"<div class=\"evidence\">{_decision(decision)}{_document(review)}{_chip(review)}{_face(review)}</div>")


def _table(caption: str, rows: list[tuple[str, object]]) -> str:
    cells = "".join(f"<tr><th scope=\"row\">{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in rows)
    return f"<table><caption>{_e(caption)}</caption><tbody>{cells}</tbody></table>"


def _decision(decision) -> str:
    rows = [("Outcome", decision.outcome.value.upper())]
    rows += [(f.code.value, f"{f.outcome.value}{': ' + f.detail if f.detail else ''}") for f in decision.findings]
    return _table("Lane decision and reasons", rows)


def _alerts(decision) -> str:
    if not decision.alert_hits:
        return ""
    items = "".join(f"<li>{_e(h.kind.value)} list {_e(h.list_id)} (version {_e(h.list_version)}): entry "
                    f"{_e(h.entry_id)}{', ' + _e(h.category) if h.category else ''}</li>" for h in decision.alert_hits)
    return f'<section class="alert-hits" role="alert"><h3>Alert-list hit</h3><ul>{items}</ul></section>'


def _document(review: PendingReview) -> str:
    mrz = review.evidence.mrz if review.evidence is not None else None
    if mrz is None:
        return _table("Document", [("Printed MRZ", "not readable")])
    return _table("Document", [
        ("Document", f"{mrz.document_code} {mrz.document_number}"), ("Issuing state", mrz.issuing_state),
        ("Name", f"{mrz.primary_identifier}, {mrz.secondary_identifier}"), ("Nationality", mrz.nationality),
        ("Date of birth", mrz.birth_date), ("Sex", mrz.sex), ("Date of expiry", mrz.expiry_date)])


def _check(result) -> str:
    if result is None:
        return "not present"
    state = "passed" if result.passed else ("failed" if result.performed else "not performed")
    return f"{state} ({result.check.value}{', ' + result.reason.value if not result.passed else ''})"


def _chip(review: PendingReview) -> str:
    chip = review.evidence.chip if review.evidence is not None else None
    if chip is None:
        return _table("Chip", [("Status", "not attempted")])
    passive = chip.passive
    pa = "not performed" if passive is None else ("passed" if passive.passed else
                                                    "failed: " + ", ".join(f.code() for f in passive.failures))
    return _table("Chip", [
        ("Status", chip.status.value), ("Access control", f"{chip.access_protocol or '-'} {chip.access_reason or ''}"),
        ("Passive authentication", pa), ("DG1 = printed MRZ", chip.dg1_check.value if chip.dg1_check else "-"),
        ("Active authentication", _check(chip.active_auth)), ("Chip authentication", _check(chip.chip_auth)),
        ("PACE parameters signed", _check(chip.pace_parameters)), ("Detail", chip.detail or "-")])


def _face(review: PendingReview) -> str:
    face = review.evidence.face if review.evidence is not None else None
    if face is None:
        return _table("Face", [("Result", "no face comparison")])
    score = "-" if face.score is None else f"{face.score:.3f} (threshold {face.threshold})"
    pad = face.pad.value + ("" if face.pad_score is None else f" (live {face.pad_score:.2f})") + \
        (f", skipped: {face.pad_skipped}" if face.pad_skipped else "")
    return _table("Face", [("Result", face.outcome.value if face.outcome else "not finished"), ("Score", score),
                           ("Presentation attack detection", pad), ("Attempts", face.attempts),
                           ("Quality issues", ", ".join(i.value for i in face.issues) or "none")])


def _images(review: PendingReview) -> str:
    txn = quote(review.txn_id, safe="")
    figures = "".join(f'<figure><img src="/image/{kind.value}/{txn}" alt="{_e(alt)}"><figcaption>{_e(caption)}'
                      "</figcaption></figure>" for kind, caption, alt in (
                          (ImageKind.PORTRAIT, "Chip portrait", "Portrait stored in the document's chip"),
                          (ImageKind.LIVE, "Live frame", "Traveller's face as the gate camera saw it")))
    return f'<section class="faces" aria-label="Chip portrait and live frame">{figures}</section>'


def _answer_form(review: PendingReview, session: Session) -> str:
    verdicts = [OfficerVerdict.REFER, OfficerVerdict.REJECT]
    labels = dict(_VERDICT_LABELS)
    if review.decision.passed or review.clearable:   # accept confirms the lane's decision: a referral stays
        verdicts.insert(0, OfficerVerdict.ACCEPT)       # one, except a one-stop authority's own (clearable)
    if review.clearable:
        labels[OfficerVerdict.ACCEPT] = "Accept: clear your authority's referral"
    buttons = "".join(f'<button type="submit" name="verdict" value="{v.value}" class="{v.value}">'
                      f"{_e(labels[v])}</button>" for v in verdicts)
    note = "" if review.decision.passed or review.clearable else \
        "<p>The lane did not pass this traveller: accepting is not offered (an officer never upgrades a referral).</p>"
    return (f'<form method="post" action="/decision" class="answer">{_csrf(session)}'
            f'<input type="hidden" name="txn_id" value="{_e(review.txn_id)}">'
            f"<fieldset><legend>Your decision</legend>{note}{buttons}</fieldset></form>")


def message_page(device_id: str, title: str, text: str) -> str:
    body = (f"<header><h1>Officer console: gate {_e(device_id)}</h1></header><main><h2>{_e(title)}</h2>"
            f"<p>{_e(text)}</p><p><a href=\"/\">Back to the console</a></p></main>")
    return _layout(f"{title}: gate {device_id}", body)
