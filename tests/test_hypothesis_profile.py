"""The suite's property tests draw the same examples every run; `make fuzz` draws new ones."""
from __future__ import annotations

import os

from hypothesis import settings


def test_the_profile_in_effect_is_the_one_asked_for():
    fuzzing = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
    assert settings.default.derandomize is not fuzzing
    if not fuzzing:
        assert settings.default.database is None      # nothing remembered from an earlier run decides a verdict
