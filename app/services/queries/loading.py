"""Loader options shared by the lists."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from app.models import Order


def order_reference(relationship):
    """Eager-load only what a row shows of its order (number and currency) in the same
    query, without the channel join an Order normally brings along."""
    return joinedload(relationship).load_only(Order.number, Order.currency).lazyload(Order.channel)
