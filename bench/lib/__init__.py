"""The benchmark harness behind bench/generate.py and bench/run.py.

Building a data set: reference (fixed vocabulary), parties (channels, locations, products,
customers), timeline (each order's status and step times), orders (rows per order), stock
(levels and ledger), sinks (bulk writers per engine), appsetup (schema, app, bench user).

Measuring it: measure (repetitions, SQL capture and bare replay), pages (test client),
workloads (allocation, order bodies, bare reservations), server (gunicorn and HTTP load),
bare_app (the reference page), scenarios (every figure), report (the table), plans (EXPLAIN).
"""
