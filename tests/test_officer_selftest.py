"""`gatectl selftest` on the officer console: skipped when off; a TLS pair that does not load, an
empty credential file or an expired certificate fail; a usable console is ok with its address."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firmware_app.appliance.selftest import Status
from firmware_app.appliance.selftest_officer import check_officer_console
from firmware_app.config import parse_config
from tests.officer_helpers import credential_file, tls_files
from tests.test_app_assembly import config_text


def config(tmp_path, enabled=True, cert=None, key=None, officers=None):
    section = f'[officer]\nenabled = {"true" if enabled else "false"}\nport = 9443\n'
    if cert is not None:
        section += f'cert_file = "{cert}"\nkey_file = "{key}"\ncredential_file = "{officers}"\n'
    return parse_config(config_text(tmp_path) + section)


def test_the_officer_console_check(tmp_path):
    _, server = tls_files(tmp_path)         # valid for 2 days
    officers = credential_file(tmp_path)
    assert check_officer_console(config(tmp_path, enabled=False)).status is Status.SKIP
    earlier = datetime.now(UTC) - timedelta(days=40)
    soon = check_officer_console(config(tmp_path, cert=server.cert, key=server.key, officers=officers),
                                 datetime.now(UTC))
    assert soon.status is Status.WARN and "https://127.0.0.1:9443/, 1 officer(s)" in soon.detail
    assert check_officer_console(config(tmp_path, cert=server.cert, key=server.key, officers=officers),
                                 earlier).status is Status.FAIL       # not valid yet
    empty = tmp_path / "nobody"
    empty.touch(mode=0o600)
    assert check_officer_console(config(tmp_path, cert=server.cert, key=server.key, officers=empty)).status \
        is Status.FAIL
    swapped = check_officer_console(config(tmp_path, cert=server.key, key=server.cert, officers=officers))
    assert swapped.status is Status.FAIL and "certificate/key unusable" in swapped.detail
    later = datetime.now(UTC) + timedelta(days=30)        # the test certificate lasts 2 days
    expired = check_officer_console(config(tmp_path, cert=server.cert, key=server.key, officers=officers), later)
    assert expired.status is Status.FAIL and "not valid now" in expired.detail


def test_a_certificate_with_time_left_is_ok():
    from firmware_app.appliance.selftest_officer import _judge

    class Cert:
        not_valid_before_utc = datetime(2026, 1, 1, tzinfo=UTC)
        not_valid_after_utc = datetime(2027, 1, 1, tzinfo=UTC)
    result = _judge(Cert(), 2, "10.0.0.5:8443", datetime(2026, 6, 1, tzinfo=UTC))
    assert result.status is Status.OK and "2 officer(s), certificate expires 2027-01-01 (214 days)" in result.detail
