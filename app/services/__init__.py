"""Use cases: load, apply domain rules, persist, one commit, audit event in the same transaction.

The only package that writes to db.session. Views, the API, the CLI and jobs call it alike.
"""
