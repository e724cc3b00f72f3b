"""Programações: the running phase's quantity, coupon or tax rates changed "from now on" (issue 13's edit
rules), with the proration choice — `prorate` bills the rest of the period as a plan change "agora" does,
`none` leaves it to the next invoice — and the editor's preview equal to what saving bills.

A Digital subscriber (R$ 40 a month, billed on the 1st at 09:00) of a 30-day month (April) changes on the
16th at 09:00: 15 of 30 days left, so the old terms' unused time is R$ 20,00 exactly."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.choices import InvoiceKind
from billing.models import CreditEntry, Invoice
from billing.services.previews import subscription_change_preview
from core.models import Event
from plans.choices import CouponDuration
from subscribers.choices import PhaseProration
from subscribers.services.schedules import PhaseSpec, schedule_create, schedule_update
from tests.billing.test_schedule_billing import at, bill, catalog, contract, recurring  # noqa: F401
from tests.factories import CouponFactory, TaxRateFactory

pytestmark = pytest.mark.django_db
CHANGE_AT = at(2027, 4, 16, 9)


@pytest.fixture
def running(merchant, owner, catalog, bill):  # noqa: F811
    """Digital since 01/04 09:00, paid; a schedule attached: this period, then Impressa."""
    subscription = contract(merchant, owner, catalog["digital"], dt.date(2027, 4, 1), now=at(2027, 4, 1, 9))
    bill(at(2027, 4, 1, 9))
    subscription.refresh_from_db()
    schedule = schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=catalog["impressa"])],
        now=at(2027, 4, 1, 9),
    )
    return schedule


def edited(schedule, **changes):
    """The saved phases as specs, the running one (0) with `changes` and running until 01/06."""
    phases = [PhaseSpec.of(phase) for phase in schedule.phases.order_by("position")]
    phases[0] = dataclasses.replace(phases[0], end_date=at(2027, 6, 1, 9), iterations=None, **changes)
    return phases


def proration_of(subscription):
    return Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.PRORATION).first()


CHANGES = {
    # Digital × 2: − R$ 40 × 15/30 + R$ 80 × 15/30 = R$ 20,00 charged now; then R$ 80.
    "quantity": (lambda merchant: {"quantity": 2}, [-2000, 4000], 2000, 0, 8000),
    # 50 % forever: − R$ 20,00 + R$ 10,00 = R$ 10,00 to the credit balance; then R$ 20 (R$ 10 paid by it).
    "coupon": (
        lambda merchant: {
            "coupon": CouponFactory(
                merchant=merchant, percent_off=Decimal("50"), duration=CouponDuration.FOREVER
            )
        },
        [-2000, 1000],
        0,
        1000,
        2000,
    ),
    # ISS 5 % on top: − R$ 20,00 + R$ 20,00 + ISS R$ 1,00 = R$ 1,00 now; then R$ 42.
    "tax": (lambda merchant: {"tax_rates": [TaxRateFactory(merchant=merchant)]}, [-2000, 2000], 100, 0, 4200),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_running_phase_change_prorated_now_bills_the_rest_of_the_period(
    change,
    merchant,
    owner,
    running,
    bill,  # noqa: F811
):
    terms, lines, total, credited, next_total = CHANGES[change]
    subscription = running.subscription
    phases = edited(running, **terms(merchant))
    new = phases[0]

    subscription.refresh_from_db()
    preview = subscription_change_preview(
        subscription=subscription,
        plan=subscription.plan,
        quantity=new.quantity,
        apply="now",
        discount_type=subscription.discount_type,
        tax_rates=new.tax_rates,
        coupon=new.coupon,
        prorate_terms=True,
        now=CHANGE_AT,
    )
    schedule_update(
        schedule=running,
        actor=owner,
        phases=phases,
        end_behavior="release",
        running_proration=PhaseProration.PRORATE,
        now=CHANGE_AT,
    )

    proration = proration_of(subscription)
    # The coupon's side is discounted inside its line: compare what each line nets.
    assert [line.amount - line.discount_amount for line in proration.lines.order_by("pk")] == lines
    assert proration.total == total
    assert sum(
        CreditEntry.objects.filter(customer=subscription.customer).values_list("amount", flat=True)
    ) == (credited)
    assert (preview["now"]["total"], preview["now"]["credited"]) == (total, credited)
    assert preview["next_invoice"]["total"] == next_total
    line = subscription.events.filter(data__action="updated").get()
    assert line.data["proration"]

    bill(at(2027, 5, 1, 9))
    may = recurring(subscription)[-1]
    assert (may.period_start, may.total) == (at(2027, 5, 1, 9), next_total)


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_running_phase_change_without_proration_waits_for_the_next_invoice(
    change,
    merchant,
    owner,
    running,
    bill,  # noqa: F811
):
    terms, _lines, _total, _credited, next_total = CHANGES[change]
    subscription = running.subscription
    schedule_update(
        schedule=running,
        actor=owner,
        phases=edited(running, **terms(merchant)),
        end_behavior="release",
        running_proration=PhaseProration.NONE,
        now=CHANGE_AT,
    )
    assert proration_of(subscription) is None
    bill(at(2027, 5, 1, 9))
    assert recurring(subscription)[-1].total == next_total


def test_a_one_off_price_phase_is_not_prorated(merchant, owner, catalog, bill):  # noqa: F811
    subscription = contract(merchant, owner, catalog["digital"], dt.date(2027, 4, 1), now=at(2027, 4, 1, 9))
    bill(at(2027, 4, 1, 9))
    subscription.refresh_from_db()
    schedule = schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[
            PhaseSpec(price_amount=50000, price_interval_unit="month", price_interval_count=1, iterations=6)
        ],
        now=at(2027, 4, 1, 9),
    )
    bill(at(2027, 5, 1, 9))
    phases = [PhaseSpec.of(phase) for phase in schedule.phases.order_by("position")]
    phases[1] = dataclasses.replace(phases[1], quantity=2)
    with pytest.raises(ValidationError) as caught:
        schedule_update(
            schedule=schedule,
            actor=owner,
            phases=phases,
            end_behavior="release",
            running_proration=PhaseProration.PRORATE,
            now=at(2027, 5, 16, 9),
        )
    assert [error.code for error in caught.value.error_dict["running_proration"]] == [
        "custom_price_not_prorated"
    ]


# --- the editor's preview --------------------------------------------------------------------------------
def editor_data(running, catalog, *, quantity="2", proration="prorate", end_date="2027-06-01"):  # noqa: F811
    """The editor's fields for the running fixture: phase 1 runs (its limited terms), phase 2 Impressa."""
    return {
        "phases-TOTAL_FORMS": "2",
        "phases-INITIAL_FORMS": "2",
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "10",
        "end_behavior": "release",
        "running_proration": proration,
        "phases-0-quantity": quantity,
        "phases-0-end_date": end_date,
        "phases-1-plan": str(catalog["impressa"].pk),
        "phases-1-quantity": "1",
        "phases-1-proration": "prorate",
        "phases-1-anchor": "automatic",
        "phases-1-ORDER": "2",
    }


def test_the_editor_previews_the_money_of_the_schedule_being_edited_and_saves_nothing(
    member_client,
    owner,
    running,
    catalog,  # noqa: F811
):
    subscription = running.subscription
    url = reverse("billing:subscription_schedule_preview", args=[subscription.pk])
    phases_before = list(running.phases.values_list("pk", "quantity", "end_at"))
    events_before = Event.objects.count()
    with time_machine.travel(CHANGE_AT, tick=False):
        client = member_client(owner)
        response = client.get(url, editor_data(running, catalog), HTTP_HX_REQUEST="true")
        none = client.get(url, editor_data(running, catalog, proration="none"), HTTP_HX_REQUEST="true")
        editor = client.get(reverse("subscribers:subscription_schedule", args=[subscription.pk]))
    assert response.status_code == 200
    # Ratear agora: Digital × 2 for the 15 days left, less the 15 paid of Digital × 1 = R$ 20,00 now.
    assert response.context["money_now"]["now"]["charged"] == 2000
    assert "R$\xa020,00" in response.content.decode()
    # 01/05 09:00 Digital × 2 (R$ 80); Impressa from 01/06 00:00, billed from 01/06 09:00 (R$ 100).
    invoices = response.context["upcoming"].invoices
    assert [(invoice.at, invoice.total) for invoice in invoices[:2]] == [
        (at(2027, 5, 1, 9), 8000),
        (at(2027, 6, 1, 9), 10000),
    ]
    assert none.context["money_now"] is None  # Sem rateio: nothing now
    assert [invoice.total for invoice in none.context["upcoming"].invoices[:2]] == [8000, 10000]
    # Nothing was written: the phases, the subscription and the outbox are as they were.
    assert list(running.phases.values_list("pk", "quantity", "end_at")) == phases_before
    subscription.refresh_from_db()
    assert subscription.quantity == 1
    assert Event.objects.count() == events_before
    assert proration_of(subscription) is None
    # The editor asks for it with htmx, the newest request winning.
    html = editor.content.decode()
    assert 'id="schedule-preview"' in html and 'hx-sync="this:replace"' in html
    assert 'id="running-proration"' in html


def test_the_editor_preview_says_why_it_cannot_compute(member_client, owner, running, catalog):  # noqa: F811
    url = reverse("billing:subscription_schedule_preview", args=[running.subscription_id])
    with time_machine.travel(CHANGE_AT, tick=False):
        client = member_client(owner)
        bad_field = client.get(url, editor_data(running, catalog, quantity="0"), HTTP_HX_REQUEST="true")
        past_end = client.get(
            url, editor_data(running, catalog, end_date="2027-04-10"), HTTP_HX_REQUEST="true"
        )
    assert bad_field.context["preview_errors"] == ["Corrija os campos marcados para ver a prévia."]
    assert past_end.context["upcoming"] is None
    assert "A fase atual precisa terminar depois de agora." in past_end.context["preview_errors"]


def test_saving_the_editor_with_ratear_agora_bills_what_the_preview_showed(
    member_client,
    owner,
    running,
    catalog,  # noqa: F811
):
    subscription = running.subscription
    with time_machine.travel(CHANGE_AT, tick=False):
        client = member_client(owner)
        response = client.post(
            reverse("subscribers:subscription_schedule", args=[subscription.pk]),
            editor_data(running, catalog),
        )
    assert response.status_code == 302, response.context["form"].errors
    assert proration_of(subscription).total == 2000
