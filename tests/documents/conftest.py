"""The documents tests use the catalog of the service tests (a channel, two warehouses, three products)."""

from tests.services.conftest import shop  # noqa: F401
