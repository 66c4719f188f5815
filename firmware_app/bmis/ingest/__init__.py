"""bmis-ingest: the reference BMIS ingest a post (or a national centre) runs.

MQTT 5 shared subscription -> validate against the contract -> device from the topic -> de-duplicate
on msg_id -> durable commit (SQLite or PostgreSQL) -> PUBACK and receipts to the gates. See README.md.
"""
