"""Command-line groups: `flask users …`, `flask demo …`, `flask jobs …`."""

from flask import Flask


def register(app: Flask) -> None:
    from app.cli import db, demo, invoices, jobs, orders, stock, users  # noqa: F401  (db: backup/restore join `flask db`)

    app.cli.add_command(users.group)
    app.cli.add_command(demo.group)
    app.cli.add_command(jobs.group)
    app.cli.add_command(stock.group)
    app.cli.add_command(orders.group)
    app.cli.add_command(invoices.group)
