"""Which location ships which units: the routing rules of DESIGN.md §5, as pure planning.

The service locks the stock rows, hands the locked availability to plan_allocation(),
and writes the plan back. Nothing here reads a database or a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from app.domain.enums import RoutingStrategy

# Above this many candidate locations the exact "fewest locations" search would try
# too many combinations; a greedy cover is used instead (it is optimal in practice).
EXACT_SEARCH_MAX_LOCATIONS = 12


@dataclass(frozen=True)
class Need:
    line_id: int
    product_id: int
    qty: int


@dataclass(frozen=True)
class Candidate:
    location_id: int
    code: str
    priority: int
    regions: tuple[str, ...]
    available: Mapping[int, int]  # product_id -> units free to reserve


@dataclass(frozen=True)
class Destination:
    country: str
    region: str | None = None
    postcode: str | None = None


@dataclass
class Plan:
    allocations: list[tuple[int, int, int]] = field(default_factory=list)  # (line_id, location_id, qty)
    short: dict[int, int] = field(default_factory=dict)  # line_id -> units nobody has

    @property
    def complete(self) -> bool:
        return not self.short

    @property
    def locations(self) -> set[int]:
        return {loc for _, loc, _ in self.allocations}


def serves(regions: Iterable[str], dest: Destination) -> bool:
    """A location serves a destination when one of its regions names the country
    ("DE"), the country and region ("US-NJ"), or a postcode prefix ("NL:10")."""
    country = dest.country.upper()
    region = f"{country}-{dest.region.upper()}" if dest.region else None
    postcode = (dest.postcode or "").replace(" ", "").upper()
    for entry in regions:
        entry = entry.upper()
        if entry == country or (region and entry == region):
            return True
        if ":" in entry:
            prefix_country, prefix = entry.split(":", 1)
            if prefix_country == country and postcode.startswith(prefix):
                return True
    return False


def rank(candidates: Sequence[Candidate], dest: Destination) -> list[Candidate]:
    """Locations serving the destination first, then by priority (lower first), then code."""
    return sorted(candidates, key=lambda c: (not serves(c.regions, dest), c.priority, c.code))


def _can_ship_all(candidate: Candidate, needs: Sequence[Need]) -> bool:
    totals: dict[int, int] = {}
    for need in needs:
        totals[need.product_id] = totals.get(need.product_id, 0) + need.qty
    return all(candidate.available.get(p, 0) >= q for p, q in totals.items())


def _fill(needs: Sequence[Need], ordered: Sequence[Candidate]) -> Plan:
    """Take each line's units from the locations in the given order, as far as they go."""
    left = {c.location_id: dict(c.available) for c in ordered}
    plan = Plan()
    for need in needs:
        missing = need.qty
        for cand in ordered:
            if missing == 0:
                break
            take = min(missing, left[cand.location_id].get(need.product_id, 0))
            if take > 0:
                left[cand.location_id][need.product_id] -= take
                plan.allocations.append((need.line_id, cand.location_id, take))
                missing -= take
        if missing:
            plan.short[need.line_id] = missing
    return plan


def _fewest_locations(needs: Sequence[Need], ranked: Sequence[Candidate]) -> Plan | None:
    """The smallest set of locations that together ship everything, best-ranked first."""
    useful = [c for c in ranked if any(c.available.get(n.product_id, 0) > 0 for n in needs)]
    if len(useful) <= EXACT_SEARCH_MAX_LOCATIONS:
        for size in range(2, len(useful) + 1):
            for combo in combinations(useful, size):  # combinations keep rank order
                plan = _fill(needs, combo)
                if plan.complete:
                    return plan
        return None
    # Greedy cover: repeatedly add the location that ships most of what is still missing.
    chosen: list[Candidate] = []
    remaining = list(useful)
    while remaining:
        plan = _fill(needs, chosen)
        if plan.complete and chosen:
            return plan
        short = {n.product_id: 0 for n in needs}
        line_product = {n.line_id: n.product_id for n in needs}
        for line_id, qty in (plan.short if chosen else {n.line_id: n.qty for n in needs}).items():
            short[line_product[line_id]] += qty
        best = max(remaining, key=lambda c: sum(min(c.available.get(p, 0), q) for p, q in short.items()))
        chosen.append(best)
        remaining.remove(best)
    plan = _fill(needs, chosen)
    return plan if plan.complete else None


def plan_allocation(
    needs: Sequence[Need],
    candidates: Sequence[Candidate],
    dest: Destination,
    strategy: RoutingStrategy | str = RoutingStrategy.SINGLE_FIRST,
) -> Plan:
    """Decide where each needed unit comes from.

    single_first: one location that ships the whole order (region first, then priority);
    else the fewest locations that ship it all; else allocate what exists (best-ranked
    first) and report the rest as short, so the order can wait on hold for stock.
    priority_split: walk the ranked locations, taking what each has.
    """
    needs = [n for n in needs if n.qty > 0]
    if not needs:
        return Plan()
    ranked = rank(candidates, dest)
    if RoutingStrategy(strategy) == RoutingStrategy.PRIORITY_SPLIT:
        return _fill(needs, ranked)
    for cand in ranked:
        if _can_ship_all(cand, needs):
            return _fill(needs, [cand])
    return _fewest_locations(needs, ranked) or _fill(needs, ranked)
