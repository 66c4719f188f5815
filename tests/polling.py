"""The suite's one `wait_until`: poll a condition of a running system (threads, processes, a broker)."""
from __future__ import annotations

from collections.abc import Callable

from simulator.local_process import wait_until as _poll


def wait_until(condition: Callable[[], object], timeout_s: float = 10.0, poll_s: float = 0.02) -> bool:
    """True once `condition()` holds; False when `timeout_s` passes first (its last answer).

    Assert on it (`assert wait_until(...)`) where reaching the condition is what the test checks;
    use the result as data where a later assertion decides."""
    return _poll(lambda: bool(condition()), timeout_s, poll_s)
