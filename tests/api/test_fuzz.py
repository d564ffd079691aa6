"""Schemathesis against /api/v1/openapi.json, through the WSGI app (no server), as an admin
with a bearer token: generated requests, valid and invalid, for every operation.

Each answer must be no 5xx, a documented status code and content type, a body that
matches the documented schema, and — for every 4xx — the error shape of DESIGN.md §6
({"error", "message", "details"?}). Invalid input must be refused with a 4xx.

Bounded: FUZZ_EXAMPLES valid examples per operation (default 25) and half as many invalid
ones; set the variable to dig deeper.
Runs on SQLite only: the answers do not depend on the engine (the service tests cover both),
and the PostgreSQL run would double the time for no new finding.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import make_channel, make_location, make_product, make_stock

# Valid input finds crashes and schema drift; invalid input mostly meets the same validators.
EXAMPLES = {GenerationMode.POSITIVE: int(os.environ.get("FUZZ_EXAMPLES", "25")),
            GenerationMode.NEGATIVE: int(os.environ.get("FUZZ_EXAMPLES", "25")) // 2}


@schemathesis.check
def error_body_has_the_documented_shape(ctx: CheckContext, response, case) -> bool | None:
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    assert set(body) <= {"error", "message", "details"}, f"unexpected keys in error body: {sorted(body)}"
    assert isinstance(body.get("error"), str) and body["error"], f"no error code: {body!r}"
    assert isinstance(body.get("message"), str) and body["message"], f"no message for a person: {body!r}"
    return True


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, error_body_has_the_documented_shape]


@pytest.fixture
def api_schema(app, engine_name):
    if engine_name != "sqlite":
        pytest.skip("the API fuzz runs on SQLite only (see the module docstring)")
    # Something to find, so that reads and writes get past "not found" now and then.
    mug = make_product("MUG-1", name="Blue mug")
    ams, rtm = make_location("AMS"), make_location("RTM")
    make_stock(mug, ams, 50)
    make_stock(mug, rtm, 5)
    make_channel("WEB")
    # The bearer token is sent with every case; leaving it out is test_route_access's business.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def _fuzz(operation, mode: GenerationMode, headers: dict) -> None:
    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy(generation_mode=mode))
    def answers_as_documented(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    answers_as_documented()


def test_every_operation_answers_as_documented(api_schema, api):
    """One walk over every operation, valid and invalid input; every finding is reported at once."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    findings = []
    for operation in operations:
        # An operation whose only input is a free-form path segment has no invalid input.
        has_input = len(operation.query) or len(operation.body)
        for mode in EXAMPLES if has_input else [GenerationMode.POSITIVE]:
            try:
                _fuzz(operation, mode, api.headers)
            except (Exception, BaseExceptionGroup) as exc:  # collected and reported below
                findings.append(f"--- {operation.label} ({mode}):\n{str(exc)[:3000]}")
    assert not findings, f"{len(findings)} operations misbehave:\n" + "\n".join(findings)
