"""`gatesim onestop` (issue 17): the shipped one-stop scenario runs through the assembled appliance
with two authorities, each BMIS receives its records exactly once and none of the other's alert
data; a wrong per-authority expectation fails the run; the file is checked before anything starts."""
from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from firmware_app.policy.onestop import Role
from simulator.cli import main as gatesim
from simulator.onestop_scenario import parse_onestop
from simulator.scenario import ScenarioError
from tests.pcsc_fixtures import pcscd_vpcd  # noqa: F401  (fixture)

POST = Path(__file__).resolve().parents[1] / "simulator" / "scenarios" / "onestop" / "post.toml"
WRONG = '''
[[traveller]]
label = "an exit ban the entry side should not see"
person = "collins"
exit_ban = true
expect = "referred"
expect_exit_reasons = ["exit_ban"]
expect_entry_reasons = ["exit_ban"]
'''


def test_the_one_stop_post_runs_and_a_wrong_expectation_fails(pcscd_vpcd, tmp_path, capsys):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    scenario = tmp_path / "post-plus-one.toml"
    scenario.write_text(POST.read_text() + WRONG)
    _, port = pcscd_vpcd
    code = gatesim(["onestop", str(scenario), "--faces", "bundled", "--vpcd-port", str(port)])
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("  ") and ". " in line[:6]]
    shipped = len(parse_onestop(tomllib.loads(POST.read_text())))
    assert len(lines) == shipped + 1, out
    assert all(line.endswith("  ok") for line in lines[:-1]), out
    assert "UNEXPECTED (entry reasons none, wanted exit_ban)" in lines[-1]
    records = f"each msg_id exactly once: yes ({shipped + 1} crossing records, one per transaction)"
    assert out.count(records) == 2, out
    assert "cross-authority alert data: none found" in out
    assert code == 1 and "result: FAILED" in out


@pytest.mark.parametrize("entry, says", [
    ({"label": "x", "person": "hopper", "alert": True}, "use exit_ban or entry_alert"),
    ({"label": "x", "person": "hopper", "expect_reasons": []}, "expect_exit_reasons"),
    ({"label": "x", "person": "hopper", "nationality": "utopia"}, "3 capital letters"),
    ({"label": "x", "person": "hopper", "exit_ban": "yes"}, "exit_ban must be true or false"),
    ({"label": "x", "person": "hopper", "expect_entry_reasons": ["visa_missing"]}, "visa_required"),
    ({"label": "x", "person": "hopper", "colour": "red"}, "unknown key"),
])
def test_a_bad_one_stop_traveller_is_refused_naming_the_key(entry, says):
    with pytest.raises(ScenarioError, match=says):
        parse_onestop({"traveller": [entry]})


def test_the_shipped_one_stop_scenario_parses():
    travellers = parse_onestop(tomllib.loads(POST.read_text()))
    assert [t.spec.nationality for t in travellers] == ["UTO", "UTO", "XXA", "UTO", "UTO", "UTO"]
    assert [t.exit_ban for t in travellers] == [False, True, False, False, False, False]
    assert travellers[-1].spec.document.value == "td1"     # both authorities take passports only


def test_the_demo_shows_the_one_stop_post(monkeypatch):
    import simulator.onestop_cmd as onestop_cmd
    ran = []
    monkeypatch.setattr(onestop_cmd, "run", lambda args: ran.append(args.file) or 0)
    assert gatesim(["demo", "--onestop", "--faces", "bundled"]) == 0
    assert ran == [POST]


def test_the_demo_recasts_the_bundled_people_only_when_the_shared_people_are_there():
    from simulator.onestop_cmd import DEMO_RECAST, recast
    travellers = parse_onestop(tomllib.loads(POST.read_text()))
    bundled = frozenset({"hopper", "collins"})
    assert recast(travellers, bundled) == travellers
    played = recast(travellers, bundled | set(DEMO_RECAST.values()))
    assert [t.spec.person for t in played] == [DEMO_RECAST[t.spec.person] for t in travellers]
    assert played[4].spec.impostor == DEMO_RECAST["collins"] != played[4].spec.person     # still someone else


def test_the_one_stop_demo_runs_as_expected_with_the_faces_at_hand(pcscd_vpcd, capsys):
    """The real demo: with ../shared's photos PAD is on (a scanned print such as Hopper's portrait is
    taken for an attack, so the demo recasts); without them the bundled portraits play, PAD off."""
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    code = gatesim(["demo", "--onestop", "--vpcd-port", str(pcscd_vpcd[1])])
    out, err = capsys.readouterr()
    assert code == 0, (out[-1500:], err[-1500:])
    assert "result: all travellers as expected" in out


OFFICERS_FILE = POST.with_name("officers.toml")


def test_officer_keys_staff_the_post_and_are_checked_strictly():
    from simulator.onestop_scenario import OnestopOutcome, staffed
    from simulator.scenario import OfficerAnswer
    travellers = parse_onestop(tomllib.loads(OFFICERS_FILE.read_text()))
    assert staffed(travellers) and not staffed(parse_onestop(tomllib.loads(POST.read_text())))
    assert travellers[4].answers() == {Role.EXIT: OfficerAnswer.ACCEPT, Role.ENTRY: OfficerAnswer.ACCEPT}
    for entry, says in (({"exit_officer": "acept"}, "did you mean 'accept'"), ({"entry_officer": True}, "non-empty"),
                        ({"exit_officer": "none"}, "not one of"), ({"officer": "accept"}, "use exit_officer")):
        with pytest.raises(ScenarioError, match=says):
            parse_onestop({"traveller": [{"label": "x", "person": "hopper", **entry}]})
    cleared = travellers[1]
    lane = type("Lane", (), {"differences": lambda self: []})()
    reasons = {Role.EXIT: ("exit_ban", "officer_cleared"), Role.ENTRY: ()}
    right = OnestopOutcome(lane, cleared, reasons, {Role.EXIT: ("uto-officer-sim", "accept"), Role.ENTRY: (None, None)})
    wrong = OnestopOutcome(lane, cleared, reasons, {Role.EXIT: (None, None), Role.ENTRY: (None, None)},
                           ["the exit officer could not answer"])
    asked = OnestopOutcome(lane, cleared, reasons, {Role.EXIT: ("uto-officer-sim", "accept"),
                                                    Role.ENTRY: ("arc-officer-sim", "accept")})
    assert right.differences() == [] and len(wrong.differences()) == 2
    assert asked.differences() == ["entry record's officer ('arc-officer-sim', 'accept'), wanted (None, None)"]


@pytest.mark.slow
def test_the_staffed_one_stop_post_runs_as_expected(pcscd_vpcd, capsys):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    code = gatesim(["onestop", str(OFFICERS_FILE), "--faces", "bundled", "--vpcd-port", str(pcscd_vpcd[1])])
    out = capsys.readouterr().out
    assert code == 0 and "result: all travellers as expected" in out, out


ASSISTED_FILE = POST.with_name("assisted.toml")


def test_each_authority_sets_its_own_assisted_mode_and_its_officer_answers(pcscd_vpcd, capsys):
    """Utopia's mode asks only Utopia's officer about a traveller both passed; then Arcadia's only
    (Utopia back to normal): each record names its own officer, or none (assisted.toml)."""
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    code = gatesim(["onestop", str(ASSISTED_FILE), "--faces", "bundled", "--vpcd-port", str(pcscd_vpcd[1])])
    captured = capsys.readouterr()
    out = captured.out
    lines = [line for line in out.splitlines() if line.startswith("  ") and ". " in line[:6]]
    assert len(lines) == 4 and all(line.endswith("  ok") for line in lines), out + captured.err
    assert code == 0 and "result: all travellers as expected" in out, out
    closed, registration = lines[2], lines[3]      # Arcadia closed the lane; then Utopia registration-only
    assert " no_record " in closed and "screen=closed " in closed, closed
    assert " referred " in registration and "exit=lane_manual_mode " in registration, registration
    assert "screen=see_officer " in registration, registration
    records = "each msg_id exactly once: yes (3 crossing records, one per transaction)"    # none of the closed lane
    assert out.count(records) == 2, out


def test_the_mode_keys_are_checked_strictly_and_an_unanswered_assisted_authority_names_no_officer(capsys):
    from simulator.onestop_scenario import OnestopOutcome, staffed
    with pytest.raises(SystemExit):
        gatesim(["onestop", "--help"])
    help_text = capsys.readouterr().out
    assert all(text in help_text for text in ("exit_mode = ", "entry_mode = ",
                                              "values: normal, assisted, registration_only, closed"))
    from simulator.scenario import OfficerAnswer
    travellers = parse_onestop(tomllib.loads(ASSISTED_FILE.read_text()))
    assert [(t.exit_mode.value, t.entry_mode.value) for t in travellers] == [
        ("assisted", "normal"), ("normal", "assisted"), ("normal", "closed"), ("registration_only", "normal")]
    both = parse_onestop(tomllib.loads(OFFICERS_FILE.read_text()))[5]
    assert both.assisted() == (Role.EXIT, Role.ENTRY)
    assert travellers[1].answers() == {Role.ENTRY: OfficerAnswer.REJECT} and staffed(travellers)
    unanswered = parse_onestop({"traveller": [{"label": "x", "person": "hopper", "exit_mode": "assisted"}]})
    assert staffed(unanswered)      # assisted mode alone staffs the consoles
    assert unanswered[0].expected_officers() == {Role.EXIT: (None, None), Role.ENTRY: (None, None)}
    assert travellers[1].expected_officers() == {Role.EXIT: (None, None), Role.ENTRY: ("arc-officer-sim", "reject")}
    for entry, says in (({"exit_mode": "asisted"}, "did you mean 'assisted'"), ({"entry_mode": True}, "non-empty"),
                        ({"exit_mode": "open"}, "not one of normal, assisted, registration_only, closed"),
                        ({"entry_modes": "assisted"}, "did you mean 'entry_mode'"),
                        ({"officer": "accept"}, "exit_mode or entry_mode")):
        with pytest.raises(ScenarioError, match=says):
            parse_onestop({"traveller": [{"label": "x", "person": "hopper", **entry}]})
    lane = type("Lane", (), {"differences": lambda self: []})()
    reasons = {Role.EXIT: ("officer_no_answer",), Role.ENTRY: ()}
    right = OnestopOutcome(lane, unanswered[0], reasons, {Role.EXIT: (None, None), Role.ENTRY: (None, None)})
    wrong = OnestopOutcome(lane, unanswered[0], reasons, {Role.EXIT: ("uto-officer-sim", "accept"),
                                                          Role.ENTRY: (None, None)})
    assert right.differences() == [] and wrong.differences() == [
        "exit record's officer ('uto-officer-sim', 'accept'), wanted (None, None)"]



def test_registration_only_and_closed_are_either_countrys_and_checked_strictly():
    """Either country's registration_only or closed is the lane's (the more restrictive mode): no
    officer is asked, so an officer key is refused; a closed lane records nothing, so an expectation
    is refused; and the run checks what each mode implies (simulator/onestop_modes.py)."""
    from firmware_app.policy import LaneMode
    from simulator.onestop_scenario import OnestopOutcome
    both = parse_onestop(tomllib.loads(OFFICERS_FILE.read_text()))
    assert [t.lane_mode() for t in both[-3:]] == [LaneMode.REGISTRATION_ONLY, LaneMode.CLOSED, LaneMode.NORMAL]
    for entry, says in (({"entry_mode": "registration_only", "exit_officer": "accept"},
                         'exit_officer cannot be answered: with entry_mode = "registration_only"'),
                        ({"exit_mode": "closed", "entry_mode": "assisted", "entry_officer": "accept"},
                         "entry_officer cannot be answered"),
                        ({"exit_mode": "closed", "expect": "referred"}, 'expect does not apply: with exit_mode = '),
                        ({"entry_mode": "closed", "expect_entry_reasons": []}, "expect_entry_reasons does not apply"),
                        ({"entry_mode": "registration_only", "exit_mode": "closd"}, "did you mean 'closed'")):
        with pytest.raises(ScenarioError, match=says):
            parse_onestop({"traveller": [{"label": "x", "person": "hopper", **entry}]})
    desk, shut = parse_onestop({"traveller": [{"label": "d", "person": "hopper", "entry_mode": "registration_only"},
                                              {"label": "c", "person": "hopper", "exit_mode": "closed"}]})
    nobody = {Role.EXIT: (None, None), Role.ENTRY: (None, None)}
    assert desk.expected_officers() == shut.expected_officers() == nobody
    manual = {Role.EXIT: ("lane_manual_mode",), Role.ENTRY: ("lane_manual_mode",)}

    def lane(outcome: str, screen: str):
        return type("Lane", (), {"outcome": outcome, "screen": screen, "differences": lambda self: []})()
    assert OnestopOutcome(lane("referred", "see_officer"), desk, manual, nobody).differences() == []
    wrong = OnestopOutcome(lane("passed", "please_proceed"), desk, {**manual, Role.EXIT: ()}, nobody).differences()
    assert wrong == ["outcome passed in a registration_only lane",
                     "screen please_proceed, wanted see_officer (registration_only: to the desk)",
                     "exit reasons lack lane_manual_mode"]
    asked = OnestopOutcome(lane("referred", "see_officer"), desk, manual,
                           {**nobody, Role.ENTRY: ("arc-officer-sim", "accept")}).differences()
    assert asked == ["entry record's officer ('arc-officer-sim', 'accept'), wanted (None, None)"]
    none = {Role.EXIT: (), Role.ENTRY: ()}
    assert OnestopOutcome(lane("no_record", "closed"), shut, none, nobody).differences() == []
    assert OnestopOutcome(lane("no_record", "welcome"), shut, none, nobody,
                          ["a transaction started in the closed lane"]).differences() == [
        "a transaction started in the closed lane", "screen welcome, wanted closed (the lane is closed)"]
