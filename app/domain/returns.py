"""Rules of returns (RMAs): which units may be returned, what a receipt may say, how much
may be refunded, and the return rate of the managers' report.

Pure: the services hand in plain values read from the database and persist what comes
back. Quantities are whole units; money is Decimal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.domain.enums import Disposition, ItemCondition, ReturnReason
from app.domain.errors import Conflict, DomainError, ValidationFailed
from app.domain.money import TaxLine, round_money, totals
from app.domain.return_states import RELEASED_STATUSES, ReturnStatus
from app.domain.roles import Role

ZERO = Decimal("0.00")

# Who may do what with a return. Ops handle the goods (create, approve, receive, send a
# replacement); money goes back only through finance (or a manager, or an admin).
HANDLERS = frozenset({Role.OPS, Role.MANAGER, Role.ADMIN})
REFUNDERS = frozenset({Role.FINANCE, Role.MANAGER, Role.ADMIN})
REPORT_READERS = frozenset({Role.FINANCE, Role.MANAGER, Role.ADMIN})


class NotReturnable(Conflict):
    """The order, as it stands, has nothing that can be sent back."""

    code = "not_returnable"


class NotAllowed(DomainError):
    code = "forbidden"
    http_status = 403


def may_close(role: str | None, resolution: str) -> bool:
    """A refund is finance's decision; an exchange is ops' (both: managers and admins).
    No role (the command line, a job, the demo seed) may do either."""
    if role is None:
        return True
    allowed = REFUNDERS if resolution == "refund" else HANDLERS
    return Role(role) in allowed


def check_may_handle(role: str | None) -> None:
    """Opening, approving, rejecting, cancelling and receiving returns is ops' work."""
    if role is not None and Role(role) not in HANDLERS:
        raise NotAllowed("Handling returns (open, approve, reject, cancel, receive) is for ops, a manager or an "
                         "admin.")


def check_may_close(role: str | None, resolution: str) -> None:
    if not may_close(role, resolution):
        if resolution == "refund":
            raise NotAllowed("Closing a return with a refund is for finance, a manager or an admin.")
        raise NotAllowed("Closing a return with an exchange is for ops, a manager or an admin.")


# Claiming units -----------------------------------------------------------------------


def units_held(status: str, qty: int, received: int, not_returned: bool) -> int:
    """Units of an order line that one return line keeps from every other return.

    Requested and approved units stay claimed until the customer's parcel settles them;
    a line marked `not_returned` keeps only what arrived; rejected and cancelled returns
    keep nothing."""
    if ReturnStatus(status) in RELEASED_STATUSES:
        return 0
    return received if not_returned else qty


@dataclass(frozen=True)
class ReturnableLine:
    line_id: int
    sku: str
    shipped: int
    held: int  # units already claimed by other returns

    @property
    def available(self) -> int:
        return max(self.shipped - self.held, 0)


def plan_return_lines(requested: Sequence[Mapping], lines: Sequence[ReturnableLine]) -> dict[int, int]:
    """Order line id -> units to return, for `requested` = [{"sku", "qty"}, …].

    A SKU may be named more than once (the quantities add up) and may sit on several order
    lines (filled in line order). Every problem is reported at once, per request row."""
    if not requested:
        raise ValidationFailed("Choose at least one unit to return.", details={"lines": ["Required."]})
    by_sku: dict[str, list[ReturnableLine]] = {}
    for line in lines:
        by_sku.setdefault(line.sku, []).append(line)
    wanted: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for i, row in enumerate(requested):
        sku, qty = row.get("sku"), row.get("qty")
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            errors[str(i)] = [f"Return at least one unit of {sku}."]
        elif sku not in by_sku:
            errors[str(i)] = [f"{sku} is not on this order."]
        else:
            wanted[sku] = wanted.get(sku, 0) + qty
    for sku, qty in wanted.items():
        candidates = by_sku[sku]
        shipped = sum(line.shipped for line in candidates)
        held = sum(line.held for line in candidates)
        available = sum(line.available for line in candidates)
        if qty > available:
            index = next(str(i) for i, row in enumerate(requested) if row.get("sku") == sku)
            if shipped == 0:
                message = f"No {sku} has shipped on this order yet."
            else:
                message = (f"Only {available} × {sku} can still be returned "
                           f"({shipped} shipped, {held} already in other returns).")
            errors.setdefault(index, []).append(message)
    if errors:
        raise ValidationFailed(" ".join(m for msgs in errors.values() for m in msgs), details={"lines": errors})
    plan: dict[int, int] = {}
    for sku, qty in wanted.items():
        for line in by_sku[sku]:
            take = min(qty, line.available)
            if take > 0:
                plan[line.line_id] = take
                qty -= take
    return plan


def check_reason(reason: str, note: str) -> None:
    if reason not in ReturnReason.values():
        raise ValidationFailed(f"“{reason}” is not a return reason.",
                               details={"reason": [f"One of {', '.join(ReturnReason.values())}."]})
    if reason == ReturnReason.OTHER and not note.strip():
        raise ValidationFailed("Say what the reason is when it is “other”.", details={"reason_note": ["Required."]})


# Receiving -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedLine:
    """A return line as receiving sees it."""

    line_id: int
    sku: str
    qty: int
    received: int
    not_returned: bool

    @property
    def outstanding(self) -> int:
        return 0 if self.not_returned else max(self.qty - self.received, 0)

    @property
    def settled(self) -> bool:
        return self.not_returned or self.received >= self.qty


@dataclass(frozen=True)
class PlannedReceipt:
    line_id: int
    qty: int
    condition: ItemCondition
    disposition: Disposition
    location: str | None  # code; set exactly when restocking


@dataclass(frozen=True)
class ReceivingPlan:
    receipts: list[PlannedReceipt]
    mark_not_returned: list[int]  # return line ids


def plan_receipts(entries: Sequence[Mapping], not_returned: Iterable[str], lines: Sequence[ExpectedLine],
                  *, first_receipt: bool) -> ReceivingPlan:
    """What arrived: entries [{"sku", "qty", "disposition", "condition"?, "location"?}, …]
    (a SKU may appear twice: part restocked, part written off), and SKUs whose remaining
    units will not come back.

    The condition defaults from the disposition (restock: resellable, write-off: damaged);
    damaged goods are never restocked as sellable stock. `first_receipt` (the return is
    still approved) needs at least one unit that arrived."""
    by_sku: dict[str, list[ExpectedLine]] = {}
    for line in lines:
        by_sku.setdefault(line.sku, []).append(line)
    errors: dict[str, list[str]] = {}
    outstanding = {line.line_id: line.outstanding for line in lines}
    receipts: list[PlannedReceipt] = []
    for i, entry in enumerate(entries):
        problems = _entry_problems(entry, by_sku)
        if problems:
            errors[str(i)] = problems
            continue
        sku, qty = entry["sku"], entry["qty"]
        disposition = Disposition(entry["disposition"])
        condition = ItemCondition(entry.get("condition") or (
            ItemCondition.RESELLABLE if disposition == Disposition.RESTOCK else ItemCondition.DAMAGED))
        if condition == ItemCondition.DAMAGED and disposition == Disposition.RESTOCK:
            errors[str(i)] = [f"Damaged {sku} cannot go back into sellable stock; write it off."]
            continue
        left = sum(outstanding[line.line_id] for line in by_sku[sku])
        if qty > left:
            errors[str(i)] = [_too_many(sku, qty, left, by_sku[sku])]
            continue
        location = (entry.get("location") or None) if disposition == Disposition.RESTOCK else None
        for line in by_sku[sku]:
            take = min(qty, outstanding[line.line_id])
            if take <= 0:
                continue
            outstanding[line.line_id] -= take
            qty -= take
            receipts.append(PlannedReceipt(line.line_id, take, condition, disposition, location))
    marks: list[int] = []
    for sku in dict.fromkeys(not_returned):
        if sku not in by_sku:
            errors.setdefault("not_returned", []).append(f"{sku} is not on this return.")
            continue
        marks += [line.line_id for line in by_sku[sku] if not line.not_returned and outstanding[line.line_id] > 0]
    if errors:
        raise ValidationFailed(" ".join(m for msgs in errors.values() for m in msgs), details={"lines": errors})
    if not receipts and not marks:
        raise ValidationFailed("Record at least one unit that arrived, or mark what will not come back.",
                               details={"lines": ["Nothing to record."]})
    if first_receipt and not receipts:
        raise ValidationFailed("Record at least one unit that arrived; if nothing will come back, cancel the "
                               "return instead.", details={"lines": ["No unit arrived."]})
    return ReceivingPlan(receipts=receipts, mark_not_returned=marks)


def _entry_problems(entry: Mapping, by_sku: Mapping[str, list[ExpectedLine]]) -> list[str]:
    sku, qty = entry.get("sku"), entry.get("qty")
    disposition, location = entry.get("disposition"), entry.get("location")
    if sku not in by_sku:
        return [f"{sku} is not on this return."]
    if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
        return [f"Record at least one unit of {sku}."]
    if disposition not in Disposition.values():
        return [f"Say what happens to {sku}: restock or write_off."]
    if entry.get("condition") and entry["condition"] not in ItemCondition.values():
        return [f"The condition of {sku} is resellable or damaged."]
    if disposition == Disposition.RESTOCK and not location:
        return [f"Choose the location {sku} is restocked to."]
    if disposition == Disposition.WRITE_OFF and location:
        return [f"Written-off {sku} goes to no location; leave the location out."]
    return []


def _too_many(sku: str, qty: int, left: int, lines: Sequence[ExpectedLine]) -> str:
    if any(line.not_returned for line in lines) and left == 0:
        return f"{sku} was marked as not coming back; nothing more of it can be received."
    return f"{qty} × {sku} is more than the {left} still expected on this return."


def unsettled(lines: Sequence[ExpectedLine]) -> list[str]:
    """'1 × MUG' for every line that still waits for units (closing is refused then)."""
    return [f"{line.qty - line.received} × {line.sku}" for line in lines if not line.settled]


# Refunds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedUnits:
    qty: int
    unit_price: Decimal  # as invoiced: gross when prices include tax
    tax_rate: Decimal


def refund_value(units: Iterable[PricedUnits], *, prices_include_tax: bool) -> Decimal:
    """What the customer paid for these units, tax included — computed the way a credit
    note for them adds up (each line rounded, tax per rate), so refund and note agree."""
    lines = [TaxLine(round_money(u.unit_price * u.qty), u.tax_rate) for u in units if u.qty > 0]
    if not lines:
        return ZERO
    return totals(lines, prices_include_tax=prices_include_tax).gross


def check_refund_amount(requested: Decimal | None, *, full: Decimal, refundable: Decimal, reason: str,
                        currency: str) -> Decimal:
    """The amount to refund: the full received value unless a lower amount is asked for
    (with a reason, printed on the credit note); never more than is left of what was paid."""
    amount = full if requested is None else round_money(Decimal(requested))
    if amount < 0:
        raise ValidationFailed("A refund cannot be negative.", details={"amount": ["Must be 0 or more."]})
    if amount > full:
        raise ValidationFailed(
            f"The refund can be at most the value of what was received, {full} {currency}; "
            f"it can only be lowered.", details={"amount": [f"At most {full}."]})
    if amount < full and not reason.strip():
        raise ValidationFailed(
            f"Say why the refund is lower than the {full} {currency} received; the reason is printed "
            f"on the credit note.", details={"reason": ["Required when the amount is lowered."]})
    if amount > refundable:
        raise ValidationFailed(
            f"{amount} {currency} is more than was paid: only {max(refundable, ZERO)} {currency} of this order's "
            f"payments is left to refund.", details={"amount": [f"At most {max(refundable, ZERO)}."]})
    return amount


def split_amount(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`amount` split in proportion to `weights` (to the cent; the last share takes the
    rounding), e.g. a lowered refund over the invoices its units were charged on."""
    total = sum(weights, ZERO)
    if not weights:
        return []
    if total <= 0:
        return [ZERO] * (len(weights) - 1) + [amount]
    shares, left = [], amount
    for weight in weights[:-1]:
        share = round_money(amount * weight / total)
        shares.append(share)
        left -= share
    return [*shares, left]


# The managers' report -------------------------------------------------------------------


def return_rate(returned: int, shipped: int) -> Decimal | None:
    """Units returned per hundred shipped, one decimal; None when nothing shipped."""
    if shipped <= 0:
        return None
    return (Decimal(returned) * 100 / Decimal(shipped)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
