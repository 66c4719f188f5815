"""docs/tour.md walks one transaction through the code: every file it names must exist, so a move
or a rename that forgets the tour fails here instead of leaving the newcomer a dead link."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "docs" / "tour.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")                 # [text](target), relative to docs/
CODE_PATH = re.compile(r"`([\w./-]+/[\w./-]*)`")       # `a/path.py` or `a/folder/`, relative to the root


def _links(text: str) -> list[str]:
    return [target for target in LINK.findall(text) if "://" not in target]


def test_every_linked_path_exists():
    text = TOUR.read_text()
    links = _links(text)
    assert len(links) >= 30                             # the tour names the files it walks through
    missing = [target for target in links if not (TOUR.parent / target).exists()]
    assert missing == []


def test_every_path_written_in_code_exists():
    text = TOUR.read_text()
    paths = CODE_PATH.findall(text)
    assert paths
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert missing == []


def test_links_and_their_text_name_the_same_file():
    pairs = re.findall(r"\[`([^`]+)`\]\(\.\./([^)]+)\)", TOUR.read_text())
    assert pairs and [text for text, target in pairs if text != target] == []


def test_the_tour_stays_short():
    assert len(TOUR.read_text().splitlines()) < 60
