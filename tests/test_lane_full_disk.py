"""Another program fills the gate's disk (a real 8 MB tmpfs) while a traveller is in the mantrap,
with the broker and the BMIS consumer online: the BMIS gets an alarm and an out-of-service status,
the traveller's crossing is kept and recorded once the disk has room, and the lane comes back into
service by itself (the lane runner on gpiozero mock pins, the real outbox, journal and mosquitto)."""
from __future__ import annotations

import datetime as dt
import time
import uuid

from firmware_app.appliance.bmis_side import LaneOutbox, LaneStatus
from firmware_app.bmis.contract import Identity
from firmware_app.bmis.link import BmisLink
from firmware_app.bmis.outbox.queue import Outbox, OutboxLimits
from firmware_app.bmis.wiring import connection_factory
from firmware_app.lane.journal import LaneJournal
from firmware_app.lane.state import Fault, State
from tests.broker_fixtures import bmis_consumer, broker, device_settings  # noqa: F401  (fixtures)
from tests.disk_fixtures import DiskFiller, small_disk  # noqa: F401  (fixture)
from tests.lane_rig import EXIT_RELAY, EXIT_SENSOR, PRESENCE, Kiosk, Rig
from tests.polling import wait_until

LIMITS = OutboxLimits(min_free_bytes=1 << 20, reserve_bytes=512 << 10)


def _link(broker, directory) -> BmisLink:
    outbox = Outbox(directory / "outbox.db", Identity("gate-a", "post-t", "gates"),
                    clock=lambda: dt.datetime.now(dt.UTC), id_source=uuid.uuid4, limits=LIMITS)
    return BmisLink(outbox, connection_factory=connection_factory(device_settings(broker, "gate-a")),
                    retry_delay_s=0.2)


def _statuses(consumer) -> list[str]:
    return [m["data"]["state"] for m in sorted(consumer.messages("status"), key=lambda m: m["seq"])]


def test_a_disk_filled_by_another_program_keeps_the_crossing_tells_the_bmis_and_recovers(
        broker, bmis_consumer, small_disk):
    link = _link(broker, small_disk)
    made = Rig(journal=LaneJournal.open(small_disk / "lane.db"), kiosk=Kiosk())
    made.outbox = made.runner.ports.outbox = LaneOutbox(link)

    def set_status(state, **fields):
        try:
            link.set_status(state, **fields)
        except Exception:
            pass
    status = LaneStatus(set_status, "entry")      # the app's wiring: the status follows the lane's state
    made.runner.ports.observer = lambda data: status.update(data.state.value, data.mode.value)
    link.start()
    made.runner.start()
    filler = DiskFiller(small_disk)
    try:
        assert wait_until(lambda: link.connected and "online" in _statuses(bmis_consumer))
        made.step_into_the_mantrap()
        filler.fill()                                   # the disk fills while the traveller is inside
        made.pin(EXIT_SENSOR).drive_high()
        made.pin(PRESENCE).drive_high()
        assert wait_until(lambda: made.pin(EXIT_RELAY).state is False)
        made.pin(EXIT_SENSOR).drive_low()
        assert wait_until(lambda: Fault.OUTBOX in made.runner.data.faults)
        assert wait_until(lambda: _statuses(bmis_consumer)[-1] == "out_of_service", 10)
        assert wait_until(lambda: _alarm(bmis_consumer, "device_fault"), 10)
        assert bmis_consumer.messages("events/crossing") == []
        full_since = time.monotonic()
        time.sleep(1.5)                                 # a while full: nothing heals by itself yet
        assert made.state() is State.OUT_OF_SERVICE
        filler.free()
        freed = time.monotonic()
        assert wait_until(lambda: made.state() is State.IDLE, 10), made.runner.data.faults
        back_after, full_for = time.monotonic() - freed, freed - full_since
        assert wait_until(lambda: len(bmis_consumer.messages("events/crossing")) == 1, 10)
        crossing = bmis_consumer.messages("events/crossing")[0]["data"]
        assert crossing["outcome"] == "passed"
        assert made.journal.outcome(crossing["transaction_id"]) == "passed"
        assert made.journal.open_transactions() == []
        assert wait_until(lambda: _statuses(bmis_consumer)[-1] == "online", 10)
        print(f"\nfull disk for {full_for:.1f} s: out of service, alarm and status at the BMIS; back in service "
              f"{back_after:.1f} s after the disk had room; the crossing recorded once")
    finally:
        made.close()
        link.stop()


def _alarm(consumer, kind: str) -> bool:
    return any(m["data"]["kind"] == kind for m in consumer.messages("alarms"))
