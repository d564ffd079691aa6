"""Read models for the dashboard pages: one module per area, no writes.

Each list takes a small filter object built from the query string, answers a
keyset Page (never OFFSET) and loads what its rows show up front, so a page
costs a fixed number of queries however many rows it holds.
"""
