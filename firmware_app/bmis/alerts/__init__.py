"""Alert lists pushed by the BMIS (cmd/alerts-replace, cmd/alerts-delta) and checked by the policy.

    entries.py  list entries checked and parsed into records; the immutable in-memory index
    store.py    the versioned SQLite store (atomic swaps) and the policy's checker
    staging.py  lists sent in parts, staged until the last part is in
"""
