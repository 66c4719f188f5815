"""The chip stack's own public-key maths: one curve table, one DH group table, one EC arithmetic.

`cryptography` does the work wherever it can; these cover what it cannot (PACE's mapped generator,
explicit-parameter keys from real passports, compressed points on any listed curve).
"""
