"""The assembled appliance: every port built from the config, then the lane runner.

    appliance = Appliance(config).build()      # doors secured first; failures -> out of service
    appliance.start()                          # journal recovered, devices started, lane running
    appliance.stop()                           # orderly: lane stopped, doors secured, link drained

Modules: errors, devices (reader / gate / camera / chip by URL, simulated ones named and logged),
bridges (reader and document presence -> lane events; LaneControl for BMIS commands), parts
(kiosk, face stage, stand-ins for missing components, the view tee),
bmis_side (link, command side, crossing records to outbox + statistics, hourly stats), core
(the Appliance), notify (sd_notify), selftest (`gatectl selftest` checks).
"""
