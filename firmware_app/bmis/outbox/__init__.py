"""The durable outbox (queue.py; the values it takes and hands out: records.py; its SQLite file and
disk room: storage.py): the gate's system of record for everything it must tell the BMIS.

A message is committed here (WAL, synchronous=FULL) before anyone tries to publish it. A PUBACK is
one hop: a non-retained message then waits in `pending` (state AWAITING_RECEIPT) until the BMIS
names it in a receipt (after its own durable commit) and only then moves to the `sent` log; one
left unreceipted past `receipt_timeout_s` (monotonic, within a boot; at every start for the
previous boots' records) is published again. Retained status and health are done at their PUBACK
(only the latest matters; re-sending an old one would overwrite a newer state). A refused message
moves to `dead_letter`. Consumers de-duplicate on msg_id.

Bounded by count, bytes and age. Lane messages (events, stats) are refused with OutboxFull at the
bound; status, alarms and command results have a small reserve above it, so the gate can still
say that it went out of service. Age is measured on the outbox's run clock: monotonic time within
a boot, added to the run time stored by earlier boots (a wall-clock step cannot age a message;
time the gate was switched off does not count either).
"""
