"""`flask demo seed [--orders N]`."""

from __future__ import annotations

import click

group = click.Group("demo", help="Demo data.")


@group.command("seed")
@click.option("--orders", "n_orders", default=3000, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--seed", "seed", default=42, show_default=True, help="Random seed (same seed, same data).")
def seed(n_orders: int, seed: int) -> None:
    """Load realistic demo data once (a second run changes nothing)."""
    from app.services import demo

    report = demo.seed(n_orders=n_orders, seed=seed)
    for line in report:
        click.echo(line)
