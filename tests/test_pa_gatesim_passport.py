"""`gatesim passport build/check`: files on disk, trust-store directory, exit codes."""
from __future__ import annotations

import stat

from simulator.cli import main


def test_build_then_check_genuine_and_tampered(tmp_path, capsys):
    genuine, tampered = tmp_path / "genuine", tmp_path / "tampered"
    assert main(["passport", "build", "--out", str(genuine), "--seed", "t", "--aa", "ec"]) == 0
    assert main(["passport", "build", "--out", str(tampered), "--seed", "t", "--tamper-dg", "1"]) == 0
    assert stat.S_IMODE((genuine / "chip" / "aa_key.pem").stat().st_mode) == 0o600
    assert main(["passport", "check", str(genuine), "--trust-store", str(genuine / "trust")]) == 0
    only_list = tmp_path / "ml-store"
    only_list.mkdir()
    (only_list / "list.ml").write_bytes((genuine / "masterlist.ml").read_bytes())
    assert main(["passport", "check", str(genuine), "--trust-store", str(only_list)]) == 2  # list not pinned
    root = str(genuine / "trust" / "csca.pem")
    assert main(["passport", "check", str(genuine), "--trust-store", str(only_list), "--ml-root", root]) == 0
    assert main(["passport", "check", str(tampered), "--trust-store", str(genuine / "trust"), "--json"]) == 1
    assert "DG_HASH_MISMATCH(DG1)" in capsys.readouterr().out


def test_check_of_unusable_directory(tmp_path):
    assert main(["passport", "check", str(tmp_path / "none"), "--trust-store", str(tmp_path)]) == 2
