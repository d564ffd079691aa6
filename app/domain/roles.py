"""Roles and what each may see. One table, checked by tests/web/test_route_access.py."""

from __future__ import annotations

from collections.abc import Mapping

from app.domain.enums import LabelledEnum


class Role(LabelledEnum):
    OPS = "ops"
    FINANCE = "finance"
    MANAGER = "manager"
    ADMIN = "admin"


# Sections of the dashboard (top navigation) and the roles that may open them.
# Finance reads orders and returns to check payments and refunds; managers see
# everything but user administration; admins see everything.
SECTION_ROLES: Mapping[str, frozenset[Role]] = {
    "orders": frozenset({Role.OPS, Role.FINANCE, Role.MANAGER, Role.ADMIN}),
    "inventory": frozenset({Role.OPS, Role.MANAGER, Role.ADMIN}),
    "fulfillment": frozenset({Role.OPS, Role.MANAGER, Role.ADMIN}),
    "returns": frozenset({Role.OPS, Role.FINANCE, Role.MANAGER, Role.ADMIN}),
    "documents": frozenset({Role.FINANCE, Role.MANAGER, Role.ADMIN}),
    "sla": frozenset({Role.MANAGER, Role.ADMIN}),
    "admin": frozenset({Role.ADMIN}),
}

SECTION_LABELS: Mapping[str, str] = {
    "orders": "Orders",
    "inventory": "Inventory",
    "fulfillment": "Fulfillment",
    "returns": "Returns",
    "documents": "Documents",
    "sla": "SLA",
    "admin": "Admin",
}


def can_open(role: str | Role, section: str) -> bool:
    return Role(role) in SECTION_ROLES[section]


def sections_for(role: str | Role) -> list[str]:
    return [s for s in SECTION_ROLES if can_open(role, s)]
