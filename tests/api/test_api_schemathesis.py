"""The API against its own OpenAPI schema (schemathesis): for every operation, requests generated from the
schema — valid and invalid — never get a 500, and every answer matches the schema (status documented, body
and content type as described). Bounded (a few examples per operation, a fixed seed) to stay quick in
`make test`; a longer exploration:

    SCHEMATHESIS_EXAMPLES=200 SCHEMATHESIS_COVERAGE=1 scripts/with-postgres.sh \
        .venv/bin/pytest tests/api/test_api_schemathesis.py
"""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.choices import ApiKeyRole
from subscribers.services.schedules import PhaseSpec, schedule_create
from tests.api.conftest import make_key
from tests.factories import (
    CouponFactory,
    CustomerFactory,
    EventFactory,
    InvoiceFactory,
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
    WebhookEndpointFactory,
)

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))
COVERAGE_PHASE = os.environ.get("SCHEMATHESIS_COVERAGE", "") == "1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


pytestmark = pytest.mark.django_db


def _schema():
    """The schema /api/v1/schema/ serves (drf-spectacular, no request needed), called on the app in-process:
    the requests run in the test's thread, on its database transaction."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    # The coverage phase (every boundary of every field: hundreds of requests per operation) is for a
    # longer run; `make test` keeps the examples and the fuzzing, bounded by EXAMPLES.
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": COVERAGE_PHASE}}})
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)), config=config)
    loaded.app = get_wsgi_application()
    return loaded


schema = _schema()


@pytest.fixture
def keep_the_test_connection():
    """The WSGI handler closes the database connection after each request (request_finished); that would
    close the test's transaction. Django's own test client switches this off the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def secret(merchant, keep_the_test_connection):
    """A read-write key of a merchant with one of everything, ids 1… likely among the generated ones."""
    plan = PlanFactory(merchant=merchant)
    customer = CustomerFactory(merchant=merchant)
    subscription = SubscriptionFactory(merchant=merchant, plan=plan, customer=customer)
    # With a schedule, so its routes answer 200 too (not only 404) and their bodies are checked.
    schedule_create(subscription=subscription, actor=None, phases=[PhaseSpec(plan=plan)])
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription, customer=customer)
    PaymentFactory(merchant=merchant, invoice=invoice)
    EventFactory(merchant=merchant)
    CouponFactory(merchant=merchant)
    WebhookEndpointFactory(merchant=merchant)
    return make_key(merchant, role=ApiKeyRole.READ_WRITE)[1]


@pytest.mark.xdist_group("schemathesis")
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_matches_its_schema(case, secret):
    case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)
