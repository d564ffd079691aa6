"""Deciding on a return: approve, reject, cancel — and the API's one `transition` door."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from app.domain.errors import IllegalTransition, ValidationFailed
from app.domain.return_states import ReturnStatus, check_return_transition
from app.domain.returns import check_may_handle
from app.extensions import db
from app.models import Return
from app.models.base import utcnow
from app.services.actors import Actor
from app.services.returns.closing import close
from app.services.returns.common import load_for_change, set_status
from app.services.returns.receiving import receive


def _decide(number: str, target: ReturnStatus, *, note: str, actor: Actor, expected_version: int | None,
            now: datetime) -> Return:
    check_may_handle(actor.role)
    ret, _ = load_for_change(number, expected_version)
    check_return_transition(ret.status, target)
    set_status(ret, target, actor=actor, at=now, details={"note": note} if note else None)
    db.session.commit()
    return ret


def approve(number: str, *, actor: Actor, note: str = "", expected_version: int | None = None,
            now: datetime | None = None) -> Return:
    """The customer may send the goods."""
    return _decide(number, ReturnStatus.APPROVED, note=(note or "").strip(), actor=actor,
                   expected_version=expected_version, now=now or utcnow())


def reject(number: str, *, reason: str, actor: Actor, expected_version: int | None = None,
           now: datetime | None = None) -> Return:
    """No return (outside the return window, say); the customer is told why, so a reason is required.
    The units it claimed may be claimed again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the return is rejected; the customer will be told.",
                               details={"reason": ["Required."]})
    return _decide(number, ReturnStatus.REJECTED, note=reason, actor=actor, expected_version=expected_version,
                   now=now or utcnow())


def cancel(number: str, *, actor: Actor, reason: str = "", expected_version: int | None = None,
           now: datetime | None = None) -> Return:
    """An approved return whose goods will not come (the customer kept them)."""
    return _decide(number, ReturnStatus.CANCELLED, note=(reason or "").strip(), actor=actor,
                   expected_version=expected_version, now=now or utcnow())


def transition(number: str, target: str, *, actor: Actor, expected_version: int | None = None,
               lines: Sequence[Mapping] | None = None, not_returned: Sequence[str] = (), reason: str = "",
               resolution: str | None = None, refund: Mapping | None = None, now: datetime | None = None) -> Return:
    """Move a return as an API client asked: `received` records what arrived (again, while
    received: a second parcel), `closed` settles it with a refund or an exchange."""
    try:
        target = ReturnStatus(target)
    except ValueError:
        raise ValidationFailed(f"“{target}” is not a return status.",
                               details={"to": [f"One of {', '.join(ReturnStatus.values())}."]}) from None
    refund = refund or {}
    if target == ReturnStatus.APPROVED:
        return approve(number, actor=actor, note=reason, expected_version=expected_version, now=now)
    if target == ReturnStatus.REJECTED:
        return reject(number, reason=reason, actor=actor, expected_version=expected_version, now=now)
    if target == ReturnStatus.CANCELLED:
        return cancel(number, reason=reason, actor=actor, expected_version=expected_version, now=now)
    if target == ReturnStatus.RECEIVED:
        return receive(number, lines or [], not_returned=not_returned, actor=actor,
                       expected_version=expected_version, now=now)
    if target == ReturnStatus.CLOSED:
        amount = refund.get("amount")
        return close(number, resolution=resolution, refund_amount=Decimal(amount) if amount is not None else None,
                     include_shipping=bool(refund.get("include_shipping")), refund_reason=refund.get("reason") or "",
                     method=refund.get("method") or "original", actor=actor, expected_version=expected_version,
                     now=now)
    # Nothing leads back to `requested`; the state machine words the refusal for the return as it is.
    ret, _ = load_for_change(number, expected_version)
    check_return_transition(ret.status, target)
    raise IllegalTransition(f"{ret.number} cannot go back to requested.")
