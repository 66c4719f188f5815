"""Static checks of the page: every screen and instruction has a picture that the page defines."""
from __future__ import annotations

import re

import pytest

from firmware_app.kiosk.assets import STATIC_DIR
from firmware_app.kiosk.view import Instruction, Screen

APP_JS = (STATIC_DIR / "app.js").read_text()
INDEX = (STATIC_DIR / "index.html").read_text()
SYMBOLS = set(re.findall(r'<symbol id="([\w-]+)"', INDEX))


def js_table(name: str) -> dict[str, str]:
    body = re.search(rf"const {name} = \{{(.*?)\}};", APP_JS, re.S).group(1)
    return dict(re.findall(r'(\w+): "([\w-]+)"', body))


@pytest.mark.parametrize("screen", list(Screen))
def test_every_screen_has_a_defined_pictogram(screen):
    assert f"pict-{js_table('PICTOGRAMS')[screen.value]}" in SYMBOLS


@pytest.mark.parametrize("instruction", list(Instruction))
def test_every_instruction_has_a_defined_picture(instruction):
    assert js_table("INSTRUCTION_ICONS")[instruction.value] in SYMBOLS


def test_the_page_loads_no_inline_script_or_style_and_nothing_from_outside():
    assert "<script>" not in INDEX and "style=" not in INDEX and "onclick" not in INDEX
    assert not re.search(r'(src|href)="(https?:)?//', INDEX + APP_JS)


def test_live_regions_for_screen_readers_exist():
    assert 'id="announcer"' in INDEX and 'aria-live="polite"' in INDEX and 'aria-live="assertive"' in INDEX
