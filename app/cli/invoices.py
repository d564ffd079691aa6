"""`flask invoices export --from DATE --to DATE --out FILE.zip`."""

from __future__ import annotations

from datetime import date

import click

group = click.Group("invoices", help="Invoices and credit notes.")


def _day(ctx, param, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@group.command("export")
@click.option("--from", "date_from", required=True, callback=_day, help="First day (YYYY-MM-DD), inclusive.")
@click.option("--to", "date_to", required=True, callback=_day, help="Last day (YYYY-MM-DD), inclusive.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The ZIP file to write (PDFs plus register.csv).",
)
@click.option(
    "--processes",
    type=click.IntRange(0, 16),
    default=None,
    help="Rendering processes (default EXPORT_PROCESSES, 2; 0 renders in this process).",
)
def export(date_from: date, date_to: date, out: str, processes: int | None) -> None:
    """Every invoice and credit note issued in the period (days in TIMEZONE) as PDFs, with a CSV register."""
    from app.domain.errors import ValidationFailed
    from app.services.documents.export import NothingToExport, export_period

    shown = {"step": -1}

    def progress(done: int, total: int) -> None:
        step = done * 10 // total
        if step != shown["step"]:
            shown["step"] = step
            click.echo(f"  {done}/{total} documents", err=True)

    try:
        result = export_period(date_from, date_to, out, processes=processes, progress=progress)
    except NothingToExport as exc:
        raise click.ClickException(exc.message) from None
    except ValidationFailed as exc:
        raise click.UsageError(exc.message) from None
    click.echo(
        f"Exported {result.documents} documents to {result.path} in {result.seconds:.1f} s "
        f"({result.processes or 'no'} worker processes)."
    )
