"""String enums shared by models and rules. Their values are part of the public contract."""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)


class ChannelKind(LabelledEnum):
    WEBSTORE = "webstore"
    MARKETPLACE = "marketplace"
    WHOLESALE = "wholesale"
    POS = "pos"


class RoutingStrategy(LabelledEnum):
    SINGLE_FIRST = "single_first"  # one location for the whole order, split only if needed
    PRIORITY_SPLIT = "priority_split"  # walk locations by priority, split freely


class InvoiceTrigger(LabelledEnum):
    SHIPMENT = "shipment"
    PAYMENT = "payment"


class LocationKind(LabelledEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"
    THREE_PL = "3pl"


class AddressStatus(LabelledEnum):
    OK = "ok"
    AMBIGUOUS = "ambiguous"


class MoveKind(LabelledEnum):
    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    SHIPMENT = "shipment"
    RETURN_RESTOCK = "return_restock"
    WRITE_OFF = "write_off"


class ShipmentStatus(LabelledEnum):
    PENDING = "pending"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class WaveStatus(LabelledEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class ReturnReason(LabelledEnum):
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class ReturnResolution(LabelledEnum):
    REFUND = "refund"
    EXCHANGE = "exchange"


class ItemCondition(LabelledEnum):
    RESELLABLE = "resellable"
    DAMAGED = "damaged"


class Disposition(LabelledEnum):
    RESTOCK = "restock"
    WRITE_OFF = "write_off"


class DocumentKind(LabelledEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class ClockKind(LabelledEnum):
    PAYMENT = "payment"
    DISPATCH = "dispatch"
    STOCK_HOLD = "stock_hold"
    ADDRESS_HOLD = "address_hold"


class ClockState(LabelledEnum):
    RUNNING = "running"
    MET = "met"
    BREACHED = "breached"
    STOPPED = "stopped"


class NotificationStatus(LabelledEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


class NotificationKind(LabelledEnum):
    PAYMENT_REMINDER_1 = "payment_reminder_1"
    PAYMENT_REMINDER_2 = "payment_reminder_2"
    AUTO_CANCELLED = "auto_cancelled"
    DISPATCH_WARNING = "dispatch_warning"
    DISPATCH_BREACH = "dispatch_breach"
    HOLD_DEADLINE = "hold_deadline"
    ADDRESS_PROBLEM = "address_problem"
    ORDER_SHIPPED = "order_shipped"
