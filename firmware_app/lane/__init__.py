"""The lane: one traveller's transaction as a pure state machine, and the thin runtime around it.

    from firmware_app.lane.machine import initial, step
    data, actions = initial(settings, now=clock())          # SecureDoors first, then the screen
    data, actions = step(data, DocumentPresented(mrz), now)  # events in, actions out; no I/O

    runner = LaneRunner(settings, LanePorts(gate, chip, face, decider, kiosk, outbox, journal), clock)
    runner.start()      # secure doors, void + report unfinished transactions, read sensors, run

Modules: state (State enum, LaneData, settings), events, actions, machine (dispatch), flow
(document -> chip -> face -> decision -> officer -> refer), passage (doors and presence),
safety (emergency, tamper, faults, forced/held doors), retreat (never trapped: exit locked, entry
released for somebody inside), override (officer override from the BMIS: open/close doors, audited,
auto-secured), lifecycle (begin/end/void/settle),
views (kiosk screens), record (CrossingRecord for the BMIS), journal (SQLite), ports, runner,
supervision (watchdog: hung stage workers, stuck loop, gate probe), wiring (config -> settings,
gate layout, policy decider, supervision).

Kiosk: `KioskServer(on_input=runner.on_traveller_input)`; systemd: ping only while `runner.healthy()`.
BMIS override: `runner.officer_override(OfficerOverride(...), timeout)` -> OverrideAnswered | None.
"""
