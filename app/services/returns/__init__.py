"""Returns (RMAs): open one for shipped units, approve or reject it, receive the goods
(restock or write off), close it with a refund and credit note or an exchange order.

Each use case is one transaction: it locks the order and the return (optimistic lock on
Return.version when the caller passes the version it saw), applies the rules of
app.domain.return_states and app.domain.returns, writes its audit events and commits.
"""

from app.services.returns.closing import close, refund_preview
from app.services.returns.common import get_return
from app.services.returns.intake import create_return, returnable_lines
from app.services.returns.receiving import receive
from app.services.returns.workflow import approve, cancel, reject, transition

__all__ = ["approve", "cancel", "close", "create_return", "get_return", "receive", "refund_preview", "reject",
           "returnable_lines", "transition"]
