"""The reader-only demo (`gatesim demo --reader-only`): every scripted document through the reader and MRZ."""
from simulator.cli import main as gatesim


def test_demo_runs_every_traveller_with_expected_outcomes(capsys):
    assert gatesim(["demo", "--reader-only", "--framing", "cute", "--seed", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    outcomes = [line.split("->")[-1].strip() for line in out if "traveller" in line]
    assert outcomes[0] == "TD3: VALID"
    assert outcomes[1] == "TD1: VALID"
    assert outcomes[2] == "TD3: VALID"
    # a fixed country code rests on no check digit: invalid until the chip's DG1 confirms it
    assert outcomes[3].startswith("TD3: INVALID") and "chip to confirm: nationality" in outcomes[3]
    assert outcomes[4].startswith("TD3: INVALID")
    assert "expired" in outcomes[5]
