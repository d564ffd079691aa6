"""All models, imported here so that Alembic and the app see the whole schema."""

from app.models.audit import Event
from app.models.base import Base
from app.models.catalog import Channel, Location, LocationHoliday, Product
from app.models.documents import Counter, ExportJob, Invoice
from app.models.fulfillment import ParcelDismissal, Shipment, ShipmentLine, Wave
from app.models.imports import ImportJob
from app.models.inventory import Allocation, StockLevel, StockMove
from app.models.jobs import JobLock, JobRun
from app.models.order import Customer, Order, OrderLine, Payment, Refund
from app.models.returns import Return, ReturnLine, ReturnReceipt
from app.models.sla import Notification, SlaClock
from app.models.user import ApiToken, User

__all__ = [
    "Allocation", "ApiToken", "Base", "Channel", "Counter", "Customer", "Event", "ExportJob", "ImportJob", "Invoice",
    "JobLock", "JobRun", "Location", "LocationHoliday", "Notification", "Order", "OrderLine", "ParcelDismissal",
    "Payment", "Product", "Refund", "Return", "ReturnLine", "ReturnReceipt", "Shipment",
    "ShipmentLine", "SlaClock", "StockLevel", "StockMove", "User", "Wave",
]
