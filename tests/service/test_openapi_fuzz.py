"""schemathesis against the service's own OpenAPI document, over HTTP on loopback:
every operation, with bodies and parameters generated from the document, must keep
to it (no server error; documented status codes, content types and schemas).

``positive_data_acceptance`` is left out on purpose: the document gives the shape
of a cart, not every rule of DESIGN §5 (a known currency, unique line ids, times
with offsets …), so a cart of the right shape may rightly be refused with a 422
problem document. ``PROMOKIT_FUZZ_EXAMPLES`` raises the examples per operation
(default 15, which keeps this module to a few seconds)."""

from __future__ import annotations

import os
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import positive_data_acceptance  # noqa: E402

from .conftest import KEYS, Service  # noqa: E402

EXAMPLES = int(os.environ.get("PROMOKIT_FUZZ_EXAMPLES", "15"))


def test_the_service_keeps_to_its_document(service: Service) -> None:
    # Driven through hypothesis directly (schemathesis's own pytest plugin does not
    # follow pytest 9's nodes): each operation's strategy, EXAMPLES cases each.
    schema = schemathesis.openapi.from_url(f"{service.url}/schema/openapi.json")
    headers = {"Authorization": f"Bearer {KEYS['admin']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 21
    calls = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def keeps_to_it(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=headers,
                                   excluded_checks=[positive_data_acceptance])

        keeps_to_it()
    assert calls >= len(operations)
    print(f"schemathesis: {len(operations)} operations, {calls} cases")
