"""The result table: each figure with its baseline and its target, as Markdown.

Latency targets are judged on the p95 (what a person waiting sees on a bad request)
unless the target itself names the median, throughput targets on the measured rate.
The verdict column says "ok" or "MISS"; nothing is asserted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LATENCY, MEDIAN, RATE = "latency", "median", "rate"


@dataclass
class Target:
    kind: str  # LATENCY: at most `value` ms at p95 · MEDIAN: at most `value` ms at p50 · RATE: at least `value`/s
    value: float
    text: str

    def met(self, figure: Figure) -> bool | None:
        if self.kind == LATENCY:
            return None if math.isnan(figure.p95_ms) else figure.p95_ms <= self.value
        if self.kind == MEDIAN:
            return None if math.isnan(figure.median_ms) else figure.median_ms <= self.value
        return None if figure.rate is None else figure.rate >= self.value


@dataclass
class Figure:
    group: str
    name: str
    median_ms: float = math.nan
    p95_ms: float = math.nan
    n: int = 0
    rate: float | None = None  # per second, for throughput figures
    rate_unit: str = "/s"
    baseline: str = ""
    target: Target | None = None
    note: str = ""
    statements: list | None = None  # the SQL behind it (for query plans), not printed

    @property
    def missed(self) -> bool:
        return self.target is not None and self.target.met(self) is False

    def ours(self) -> str:
        parts = []
        if self.rate is not None:
            parts.append(f"{self.rate:,.0f} {self.rate_unit}")
        if not math.isnan(self.median_ms):
            parts.append(f"{_ms(self.median_ms)} / {_ms(self.p95_ms)} ms")
        return " · ".join(parts) or "—"

    def verdict(self) -> str:
        if self.target is None:
            return ""
        met = self.target.met(self)
        return "" if met is None else ("ok" if met else "**MISS**")


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def baseline_ms(median_ms: float, p95_ms: float, what: str) -> str:
    return f"{_ms(median_ms)} / {_ms(p95_ms)} ms ({what})"


def plans_markdown(figures: list[Figure], engine) -> str:
    """EXPLAIN output for the slowest statement of every figure that misses its target."""
    from bench.lib.plans import slow_statement_plans

    out = []
    for f in figures:
        if not (f.missed and f.statements):
            continue
        for ms, sql, params, plan in slow_statement_plans(engine, f.statements):
            out += [
                f"#### {f.group}: {f.name}",
                "",
                f"Slowest statement, {ms:,.1f} ms on its own (parameters {params!r}):",
                "",
                "```sql",
                " ".join(sql.split()),
                "```",
                "",
                "```",
                plan,
                "```",
                "",
            ]
    return "\n".join(out)


def markdown(figures: list[Figure], title: str) -> str:
    lines = [
        f"### {title}",
        "",
        "| area | figure | ours: rate · median / p95 | n | baseline, same run | target | vs target | note |",
        "|---|---|---:|---:|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.group} | {f.name} | {f.ours()} | {f.n or ''} | {f.baseline} | "
            f"{f.target.text if f.target else ''} | {f.verdict()} | {f.note} |"
        )
    return "\n".join(lines)
