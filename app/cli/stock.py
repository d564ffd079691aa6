"""`flask stock verify`."""

from __future__ import annotations

import time

import click

group = click.Group("stock", help="Stock checks.")


@group.command("verify")
def verify() -> None:
    """Check every level against its ledger and every reservation against allocations."""
    from app.services import stock_verify

    started = time.perf_counter()
    report = stock_verify.verify()
    elapsed = time.perf_counter() - started
    for drift in report.drifts:
        click.echo(f"DRIFT {drift.message}")
    click.echo(f"Checked {report.levels_checked} stock levels and {report.moves_counted} ledger moves "
               f"in {elapsed:.2f} s: {'no drift' if report.ok else f'{len(report.drifts)} drift(s)'}.")
    if not report.ok:
        raise SystemExit(1)
