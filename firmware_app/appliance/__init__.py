"""The assembled appliance: every port built from the config, then the lane runner.

    appliance = Appliance(config).build()      # doors secured first; failures -> out of service
    appliance.start()                          # journal recovered, devices started, lane running
    appliance.stop()                           # orderly: lane stopped, doors secured, link drained

core: the Appliance, the one place that wires the gate; its build(), start() and stop() read top
to bottom as named steps in the safe order. The construction helpers, by boundary:
devices (hardware: reader, gate, camera, chip by URL, simulated ones named and logged; the bridges
from reader and document presence to lane events), parts (traveller side: kiosk, face stage, view
tee and their stand-ins), bmis_side (BMIS: the lane's one outbox adapter, link, commands,
status from the lane's state, hourly stats), observation (health, lane state and liveness of the
assembled appliance), shutdown (the never-trapped stance at stop). Also: errors, journal (logging),
notify (sd_notify), timesync, pki_updates, selftest (`gatectl selftest` checks).
"""
