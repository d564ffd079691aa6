"""Errors that carry a sentence an ops person understands.

Services raise them; views and the API turn them into a toast or a JSON error
body. `code` is the machine-readable `error` field of the API.
"""


class DomainError(Exception):
    code = "domain_error"
    http_status = 422

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class ValidationFailed(DomainError):
    code = "validation_error"
    http_status = 422


class IllegalTransition(DomainError):
    code = "illegal_transition"
    http_status = 409


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class StaleVersion(Conflict):
    code = "stale_version"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class InsufficientStock(DomainError):
    code = "insufficient_stock"
    http_status = 409
