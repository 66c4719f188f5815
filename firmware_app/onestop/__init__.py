"""One-stop border post (issue 17): the exit control of one country and the entry control of the
next in one lane, each authority with its own policy, alert lists, outbox and BMIS link.

    decider.py   both authorities decide on the one evidence; the lane acts on the joint decision
    records.py   one authority's crossing record: its own decision, the agreed document fields
    outbox.py    the lane's OutboxPort: each record, alarm and exception to the authority it belongs to
    control.py   what each authority's commands may do to the shared lane (own mode, close, no opening)
The rules are policy/onestop.py, the config config/onestop.py; appliance/onestop.py builds each
authority's BMIS side. The lane itself is unchanged: it sees one Decider and one OutboxPort.
"""
