"""The lane: one traveller's transaction as a pure state machine, and the thin runtime around it.

    from firmware_app.lane.machine import initial, step
    data, actions = initial(settings, now=clock())          # SecureDoors first, then the screen
    data, actions = step(data, DocumentPresented(mrz), now)  # events in, actions out; no I/O

    runner = LaneRunner(settings, LanePorts(gate, chip, face, decider, kiosk, outbox, journal), clock)
    runner.start()      # secure doors, void + report unfinished transactions, read sensors, run

Modules, pure: state (State enum, LaneData, settings), events, actions, machine (dispatch), step
(the `Step` builder every handler writes to: timers, doors, screens), flow (document -> chip ->
face -> decision -> officer -> refer), passage (doors and presence), safety (emergency, tamper,
faults, forced/held doors; never trapped: exit locked, entry released for somebody inside; officer
override from the BMIS), lifecycle (begin/end/void/settle), views (kiosk screens), record
(CrossingRecord for the BMIS). Runtime: ports (what the runner drives, LanePorts), runner (life
cycle, loop, watchdog thread), execution (one handler per action), reports (outbox and journal
writes, owed ones retried), journal (SQLite), supervision (watchdog: hung stage workers, stuck
loop, gate probe), stages (chip and face work on worker threads), errors, wiring (config ->
settings, gate layout, policy decider, supervision).

Kiosk: `KioskServer(on_input=runner.on_traveller_input)`; systemd: ping only while `runner.healthy()`.
BMIS override: `runner.officer_override(OfficerOverride(...), timeout)` -> OverrideAnswered | None.
"""
