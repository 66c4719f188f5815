"""A gate that only talks to the BMIS: queue exception events until N exist, drain, exit.

Restartable by design (the SIGKILL test kills it mid-stream and starts it again): the number of
events already queued is read back from the outbox, so event k is created exactly once however
often the process dies; whatever was queued but not acknowledged is published again.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from firmware_app.bmis.contract import MessageKind
from firmware_app.bmis.errors import BmisLinkError
from firmware_app.config.load import load_config
from firmware_app.errors import ConfigError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def emit(config_path: Path, total: int, rate: float, timeout_s: float) -> int:
    from firmware_app.bmis.wiring import build_link
    try:
        link = build_link(load_config(config_path))
    except (ConfigError, BmisLinkError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    link.start()
    start = link.outbox.count_of_kind(MessageKind.EXCEPTION)
    print(f"resuming at event {start} of {total}", flush=True)
    for n in range(start, total):
        link.record_exception({"kind": "emitted", "severity": "info", "transaction_id": f"emit-{n}"})
        if rate > 0:
            time.sleep(1.0 / rate)
    drained = link.wait_drained(timeout_s)
    link.stop()
    print(f"drained: {drained}, pending {link.outbox.counts().pending}", flush=True)
    return EXIT_OK if drained else EXIT_FAILED
