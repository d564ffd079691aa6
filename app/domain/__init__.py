"""Pure business rules: no Flask, no database session, no clock reads.

Everything here takes plain values (time included) and returns plain values or
raises a DomainError. tests/domain/test_purity.py keeps it that way.
"""
