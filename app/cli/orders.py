"""`flask orders import FILE.csv --channel CODE [--dry-run] [--skip-invalid]`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

group = click.Group("orders", help="Orders.")


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--channel", required=True, help="Code of the sales channel the orders came from.")
@click.option("--dry-run", is_flag=True, help="Check the file and say what would happen; write nothing.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid orders and report the rest (default: any rejected row imports nothing).")
def import_file(file: Path, channel: str, dry_run: bool, skip_invalid: bool) -> None:
    """Import orders from an order CSV (DESIGN.md §6). Exits with 1 when rows were
    rejected and nothing was imported."""
    from app.services.actors import Actor
    from app.services.order_import import import_orders

    summary = import_orders(file.read_bytes(), channel, actor=Actor.cli(), filename=file.name, dry_run=dry_run,
                            skip_invalid=skip_invalid, progress=_progress_on_terminal())
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(f"{file.name} → channel {channel}{' (dry run: nothing written)' if dry_run else ''}: "
               f"{summary.total_rows} rows in {summary.seconds:.1f} s")
    for warning in summary.warnings:
        click.echo(f"warning: {warning}")
    if summary.orders and not summary.blocked:
        verb = "would create" if dry_run else "created"
        numbers = [n.number for n in summary.created if n.number]
        span = f" ({numbers[0]} … {numbers[-1]})" if numbers else ""
        click.echo(f"{verb}: {summary.orders} orders, {summary.lines} lines{span}")
    click.echo(f"duplicates skipped: {summary.duplicates}")
    for note in summary.skipped:
        click.echo(f"  {note.external_id} is already {note.number}")
    if summary.errors:
        click.echo(f"rejected: {summary.rejected_rows} rows ({summary.rejected_orders} orders)")
        for error in summary.errors:
            click.echo(f"  {error}")
    click.echo(summary.headline)
    if summary.blocked:
        raise SystemExit(1)


def _progress_on_terminal():
    if not sys.stderr.isatty():
        return None
    last = {"shown": -1}

    def show(stage: str, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if percent != last["shown"]:
            last["shown"] = percent
            click.echo(f"\r{stage} {done:,}/{total:,} rows ({percent} %)   ", nl=False, err=True)

    return show
