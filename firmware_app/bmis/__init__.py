"""The gate's link to the BMIS (border management information system), the only paho user.

A message on its way out, in order:
    contract.py     kinds, topics, JSON Schemas (schemas/), the envelope, receipts
    outbox/         durable SQLite queue, bounded (queue.py), its file and disk room (storage.py)
    pump.py         outbox -> broker within the broker's limits; PUBACKs and receipts back in
    mqtt_types.py   the interface the pump and link use, settings, callbacks' data (no paho)
    mqtt_client.py  the MQTT 5 connection (paho)
    link.py         owns the connection, status, health (health.py), alarms; incoming commands
                    are link_commands.py's desk
And coming in:
    commands/       signed commands: parse, verify, guard against replay, run, answer
    alerts/         alert lists pushed by commands, checked by the policy
    stats.py        hourly crossing statistics sent as `stats` messages
errors.py holds the whole error tree; wiring.py and command_wiring.py build all this from the
config for the appliance (its bmis_side.LaneOutbox is the lane's one adapter onto the link);
ingest/ is `bmis-ingest`, the BMIS's own receiving side.
"""
