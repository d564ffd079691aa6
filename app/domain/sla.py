"""SLA rules (DESIGN.md §5): deadlines computed once when a clock starts, what a late
sweep may still send, why a clock breached, and how a clock reads on a chip.

Pure: no Flask, no session, no clock read — `now` is always a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.calendar import BusinessCalendar, add_business_hours, end_of_business_day
from app.domain.enums import ClockKind, ClockState

# A hold clock turns amber this long before its end-of-day deadline.
HOLD_WARNING_BEFORE = timedelta(hours=2)
MAX_WINDOW_HOURS = 24 * 60


@dataclass(frozen=True)
class Deadline:
    warn_at: datetime | None
    due_at: datetime
    # A second moment between start and deadline: the second payment reminder, or the
    # message that tells a customer their address needs fixing.
    notice_at: datetime | None = None


@dataclass(frozen=True)
class SlaPolicy:
    dispatch_sla_hours: int = 72
    dispatch_warn_pct: int = 80
    dispatch_business_hours: bool = False
    payment_reminder_1_hours: int = 24
    payment_reminder_2_hours: int = 48
    auto_cancel_hours: int | None = 72

    def problems(self) -> dict[str, str]:
        """Field -> sentence for every setting that cannot work; empty when the policy is sound."""
        errors: dict[str, str] = {}
        if not 1 <= self.dispatch_sla_hours <= MAX_WINDOW_HOURS:
            errors["dispatch_sla_hours"] = f"Between 1 and {MAX_WINDOW_HOURS} hours."
        if not 1 <= self.dispatch_warn_pct <= 99:
            errors["dispatch_warn_pct"] = "A percentage between 1 and 99."
        if not 1 <= self.payment_reminder_1_hours <= MAX_WINDOW_HOURS:
            errors["payment_reminder_1_hours"] = f"Between 1 and {MAX_WINDOW_HOURS} hours."
        if self.payment_reminder_2_hours <= self.payment_reminder_1_hours:
            errors["payment_reminder_2_hours"] = "The second reminder must come after the first."
        elif self.payment_reminder_2_hours > MAX_WINDOW_HOURS:
            errors["payment_reminder_2_hours"] = f"At most {MAX_WINDOW_HOURS} hours."
        if self.auto_cancel_hours is not None and self.auto_cancel_hours < self.payment_reminder_2_hours:
            errors["auto_cancel_hours"] = "Cancel no earlier than the second reminder."
        elif self.auto_cancel_hours is not None and self.auto_cancel_hours > MAX_WINDOW_HOURS:
            errors["auto_cancel_hours"] = f"At most {MAX_WINDOW_HOURS} hours."
        return errors


def payment_deadline(placed_at: datetime, policy: SlaPolicy) -> Deadline:
    """Unpaid order: reminder 1 at the warning, reminder 2 at the notice, due when it is
    auto-cancelled (or at the second reminder when the channel never auto-cancels)."""
    due_hours = policy.auto_cancel_hours or policy.payment_reminder_2_hours
    return Deadline(warn_at=placed_at + timedelta(hours=policy.payment_reminder_1_hours),
                    due_at=placed_at + timedelta(hours=due_hours),
                    notice_at=placed_at + timedelta(hours=policy.payment_reminder_2_hours))


def dispatch_deadline(paid_at: datetime, policy: SlaPolicy, cal: BusinessCalendar | None = None) -> Deadline:
    """Due `dispatch_sla_hours` after payment, warned at `dispatch_warn_pct` of the window.

    Plain hours are elapsed time (72 h is 72 h even across a clock change); business
    hours count only opening..cut-off on the location's working days."""
    hours = policy.dispatch_sla_hours
    warn_hours = hours * policy.dispatch_warn_pct / 100
    if policy.dispatch_business_hours and cal is not None:
        return Deadline(warn_at=add_business_hours(paid_at, warn_hours, cal),
                        due_at=add_business_hours(paid_at, hours, cal))
    return Deadline(warn_at=paid_at + timedelta(hours=warn_hours), due_at=paid_at + timedelta(hours=hours))


def same_day_hold_deadline(held_at: datetime, cal: BusinessCalendar, *, notify_customer: bool = False) -> Deadline:
    """Stock and address holds are handled by the end of the same business day.

    An address hold also tells the customer at once (`notify_customer`), so they can
    answer the same day."""
    due = end_of_business_day(held_at, cal)
    warn = due - HOLD_WARNING_BEFORE
    return Deadline(warn_at=warn if warn > held_at else None, due_at=due,
                    notice_at=held_at if notify_customer else None)


# Catching up after downtime ---------------------------------------------------------


class NoticeDecision(StrEnum):
    SEND = "send"
    STALE = "stale"  # its moment passed too long ago to be useful now
    PAST_DUE = "past_due"  # the deadline it warns about has passed as well


def notice_decision(moment: datetime, due_at: datetime, now: datetime, stale_after: timedelta | None) -> NoticeDecision:
    """Should a reminder or warning whose moment has come still go out at `now`?

    A scheduler that was down catches up in one run. A reminder that would arrive
    after the deadline it announces is dropped; so is one whose moment passed more
    than `stale_after` ago (None: never stale). A notice whose moment is the deadline
    itself (the last reminder of a channel that never auto-cancels) is still sent."""
    if moment < due_at <= now:
        return NoticeDecision.PAST_DUE
    if stale_after is not None and now - moment > stale_after:
        return NoticeDecision.STALE
    return NoticeDecision.SEND


# Why a clock breached ----------------------------------------------------------------

BREACH_REASONS: dict[str, str] = {
    "unpaid": "never paid",
    "partially_paid": "paid in part only",
    "on_hold:payment": "on hold for payment",
    "on_hold:stock": "on hold for stock",
    "on_hold:address": "on hold for the address",
    "on_hold:review": "on hold for review",
    "on_hold:manual": "held by hand",
    "awaiting_release": "paid but not released to the floor",
    "not_picked": "ready, not picked",
    "picking": "picking not finished",
    "packed_not_shipped": "packed, not shipped",
    "stock_unresolved": "stock problem not solved",
    "address_unresolved": "address not corrected",
    "other": "other",
}


def breach_reason(kind: str, *, status: str, hold_reason: str | None, payment_status: str) -> str:
    """What held the order up when its clock breached, as a code of BREACH_REASONS."""
    if kind == ClockKind.PAYMENT:
        return "partially_paid" if payment_status == "partially_paid" else "unpaid"
    if kind == ClockKind.STOCK_HOLD:
        return "stock_unresolved"
    if kind == ClockKind.ADDRESS_HOLD:
        return "address_unresolved"
    if status == "on_hold":
        code = f"on_hold:{hold_reason or 'manual'}"
        return code if code in BREACH_REASONS else "on_hold:manual"
    return {"new": "awaiting_release", "ready": "not_picked", "picking": "picking",
            "packed": "packed_not_shipped"}.get(status, "other")


# How a clock reads ---------------------------------------------------------------------


def duration_text(seconds: float) -> str:
    """'45 min', '3 h', '5 h 20 min', '2 d 4 h' (absolute; the caller says early or late)."""
    minutes = int(abs(seconds)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


@dataclass(frozen=True)
class ChipView:
    tone: str  # ok (green), warn (amber), bad (red), done (met in time), off (stopped)
    text: str


def chip_view(*, state: str, warn_at: datetime | None, due_at: datetime, now: datetime,
              met_at: datetime | None = None, warned_at: datetime | None = None) -> ChipView:
    """Green while there is time, amber from the warning, red once the deadline passed.

    static/js/sla.js applies the same rules in the browser every 30 s; keep them equal."""
    if state == ClockState.STOPPED:
        return ChipView("off", "stopped")
    if state == ClockState.MET:
        return ChipView("done", "met")
    if state == ClockState.BREACHED:
        if met_at is not None:
            return ChipView("bad", f"met {duration_text((met_at - due_at).total_seconds())} late")
        return ChipView("bad", f"{duration_text((now - due_at).total_seconds())} overdue")
    left = (due_at - now).total_seconds()
    if left <= 0:
        return ChipView("bad", f"{duration_text(left)} overdue")
    warned = warned_at is not None or (warn_at is not None and warn_at <= now)
    return ChipView("warn" if warned else "ok", f"due in {duration_text(left)}")
