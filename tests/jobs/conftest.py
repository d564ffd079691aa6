"""The catalog the job tests share with the service tests: a web store, two warehouses
(AMS in Europe/Amsterdam, LEJ in Europe/Berlin) and three products."""

from tests.services.conftest import shop  # noqa: F401  (a fixture)
