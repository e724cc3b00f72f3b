# ruff: noqa: F811 — the fixtures are imported from test_schedule_billing
"""Programações and installment plans (issue 13): a subscription changed to an installment plan counts only
that plan's invoices as installments — the months of the plan before are not its installments — in the
billing run, Próximas faturas and dunning's "more installments to come"."""

import datetime as dt

import pytest

from billing.choices import InvoiceKind
from billing.models import Invoice
from billing.services.upcoming import upcoming_invoices
from subscribers.choices import SubscriptionStatus
from subscribers.services.schedules import PhaseSpec, schedule_create
from tests.billing.test_schedule_billing import at, bill, catalog, contract  # noqa: F401
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db
S = SubscriptionStatus


def test_an_installment_phase_after_two_plain_months_bills_all_its_installments(
    merchant,
    owner,
    catalog,
    bill,  # noqa: F811
):
    """Digital (R$ 40) in January and February, then a printer in 3 installments of R$ 1.000 from March
    (a schedule's phase): 4000, 4000, then 1/3, 2/3 and 3/3, and the plan ends with the third period."""
    printer = PlanFactory(merchant=merchant, name="Impressora 3x", price=100000, installments=3)
    subscription = contract(merchant, owner, catalog["digital"], dt.date(2027, 1, 1), now=at(2027, 1, 1))
    bill(at(2027, 1, 1))
    subscription.refresh_from_db()
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=catalog["digital"], iterations=1), PhaseSpec(plan=printer)],
        first_phase_end=at(2027, 2, 1),
        now=at(2027, 1, 1),
    )
    bill(at(2027, 2, 1))
    subscription.refresh_from_db()
    # Próximas faturas agrees before the run bills them: three installments from March.
    preview = upcoming_invoices(subscription, now=at(2027, 2, 1, 1))
    assert [
        (invoice.at, invoice.total, invoice.draft.installment_number) for invoice in preview.invoices
    ] == [
        (at(2027, 3, 1), 100000, 1),
        (at(2027, 4, 1), 100000, 2),
        (at(2027, 5, 1), 100000, 3),
    ]
    for month in (3, 4, 5, 6):
        bill(at(2027, month, 1))
    invoices = Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.RECURRING).order_by(
        "period_start"
    )
    assert [(invoice.total, invoice.installment_number) for invoice in invoices] == [
        (4000, None),
        (4000, None),
        (100000, 1),
        (100000, 2),
        (100000, 3),
    ]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.ended_at) == (S.EXPIRED, at(2027, 6, 1))
