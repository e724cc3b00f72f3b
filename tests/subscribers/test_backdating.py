"""Contract dates (issue: "contract dates without bounds"): how far back a contract may be dated, and
what a backdated one charges under each of the merchant's choices — previewed by the functions that
bill, then billed exactly so by the billing run."""

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.choices import InvoiceKind
from billing.models import BillingSettings, Invoice
from billing.services.billing_run import process_subscription
from plans.choices import IntervalUnit
from subscribers.choices import BackdateBilling
from subscribers.models import Subscription
from subscribers.services import subscription_contract_preview, subscription_create
from tests.factories import CouponFactory, CustomerFactory, PlanFactory, TaxRateFactory

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 3, 15, 12, 0, tzinfo=SP)
CREATE_URL = reverse("subscribers:subscription_create")
PREVIEW_URL = reverse("subscribers:subscription_contract_preview")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Clube", price=10000)


def contract(merchant, plan, contract_date, **kwargs):
    return subscription_create(
        merchant=merchant,
        actor=None,
        customer=CustomerFactory(merchant=merchant),
        plan=plan,
        contract_date=contract_date,
        now=NOW,
        **kwargs,
    )


def billed(subscription):
    """The recurring invoices the billing run issued at NOW: [(period start, end, total, [line amounts])]."""
    process_subscription(subscription_id=subscription.pk, now=NOW)
    return [
        (
            invoice.period_start.astimezone(SP).strftime("%d/%m %H:%M"),
            invoice.period_end.astimezone(SP).strftime("%d/%m %H:%M"),
            invoice.total,
            [line.amount for line in invoice.lines.order_by("pk")],
        )
        for invoice in Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.RECURRING).order_by(
            "period_start"
        )
    ]


# --- bounds -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "typed",
    [dt.date(1, 1, 1), dt.date(2017, 3, 15)],  # 01/01/0001, and 2017 typed for 2027
    ids=["year-0001", "2017-for-2027"],
)
def test_a_contract_older_than_the_bound_is_refused(clock, merchant, plan, typed):
    with pytest.raises(ValidationError) as refused:
        contract(merchant, plan, typed)

    assert refused.value.message_dict["contract_date"] == [
        "A data de contratação pode retroagir no máximo até 12/02/2027 (retroativo máximo em "
        "Configurações > Cobrança). Confira o ano digitado."
    ]
    assert not Subscription.objects.exists()


def test_the_screen_refuses_year_0001_with_the_message_and_saves_nothing(clock, owner_client, merchant, plan):
    customer = CustomerFactory(merchant=merchant)
    response = owner_client.post(
        CREATE_URL,
        {
            "customer": customer.pk,
            "contract_date": "0001-01-01",
            "plan": plan.pk,
            "quantity": "1",
            "payment_method": "card",
            "discount_type": "",
        },
    )

    assert response.status_code == 200
    assert "pode retroagir no máximo até 12/02/2027" in response.content.decode()
    assert not Subscription.objects.exists()


def test_the_default_bound_is_one_period_or_31_days_whichever_is_longer(clock, merchant):
    monthly = PlanFactory(merchant=merchant)
    weekly = PlanFactory(merchant=merchant, interval_unit=IntervalUnit.WEEK)
    yearly = PlanFactory(merchant=merchant, interval_unit=IntervalUnit.YEAR)

    # Monthly: one period back is 15/02, 31 days back is 12/02 → 12/02.
    assert contract(merchant, monthly, dt.date(2027, 2, 12)).pk
    with pytest.raises(ValidationError):
        contract(merchant, monthly, dt.date(2027, 2, 11))
    # Weekly: 31 days beat one week.
    assert contract(merchant, weekly, dt.date(2027, 2, 12)).pk
    # Yearly: one period (a year) beats 31 days.
    assert contract(merchant, yearly, dt.date(2026, 3, 15)).pk
    with pytest.raises(ValidationError):
        contract(merchant, yearly, dt.date(2026, 3, 14))


def test_the_merchant_setting_moves_the_bound(clock, merchant, plan):
    BillingSettings.objects.create(merchant=merchant, backdate_max_periods=0, backdate_max_days=0)

    with pytest.raises(ValidationError):
        contract(merchant, plan, dt.date(2027, 3, 14))
    assert contract(merchant, plan, dt.date(2027, 3, 15)).pk  # today is never backdated


def test_a_contract_more_than_two_years_ahead_is_refused(clock, merchant, plan):
    assert contract(merchant, plan, dt.date(2029, 3, 15)).status == "scheduled"
    with pytest.raises(ValidationError) as refused:
        contract(merchant, plan, dt.date(2092, 3, 15))  # 2092 typed for 2029

    assert refused.value.message_dict["contract_date"] == [
        "A data de contratação pode ser no máximo 15/03/2029. Confira o ano digitado."
    ]


# --- what each choice charges -------------------------------------------------------------------------
# 14 days and 12 hours into a 31-day period (01/03 → 01/04) of a R$ 100,00 plan.
@pytest.mark.parametrize(
    ("choice", "invoices", "next_invoice"),
    [
        (BackdateBilling.PERIODS, [("01/03 00:00", "01/04 00:00", 10000, [10000])], "01/04 00:00"),
        # The period from now, R$ 100,00, plus 14.5/31 of R$ 100,00 = R$ 46,77 for the time passed.
        (BackdateBilling.PRORATED, [("15/03 12:00", "15/04 12:00", 14677, [10000, 4677])], "15/04 12:00"),
        (BackdateBilling.TODAY, [("15/03 12:00", "15/04 12:00", 10000, [10000])], "15/04 12:00"),
    ],
)
def test_a_backdated_contract_is_billed_as_chosen(clock, merchant, plan, choice, invoices, next_invoice):
    subscription = contract(merchant, plan, dt.date(2027, 3, 1), backdate_billing=choice)

    assert billed(subscription) == invoices
    subscription.refresh_from_db()
    assert subscription.next_invoice_at.astimezone(SP).strftime("%d/%m %H:%M") == next_invoice
    assert subscription.contract_date == dt.date(2027, 3, 1)
    assert subscription.backdate_charge_from is None  # the time passed is charged once


@pytest.mark.parametrize(
    ("choice", "invoices"),
    [
        (
            BackdateBilling.PERIODS,
            [("13/02 00:00", "13/03 00:00", 10000, [10000]), ("13/03 00:00", "13/04 00:00", 10000, [10000])],
        ),
        # One whole period (13/02 → 13/03) + 2.5/31 of the next = R$ 100,00 + R$ 8,06.
        (BackdateBilling.PRORATED, [("15/03 12:00", "15/04 12:00", 20806, [10000, 10806])]),
        (BackdateBilling.TODAY, [("15/03 12:00", "15/04 12:00", 10000, [10000])]),
    ],
)
def test_a_contract_backdated_over_a_period_boundary_is_billed_as_chosen(
    clock, merchant, plan, choice, invoices
):
    subscription = contract(merchant, plan, dt.date(2027, 2, 13), backdate_billing=choice)

    assert billed(subscription) == invoices


def test_the_billing_runs_bulk_path_leaves_the_prorated_first_invoice_to_the_full_path(clock, merchant, plan):
    # A card subscription with one period due is what the bulk renewal takes; it would drop the line.
    from billing.services.billing_run import billing_run_start, process_chunk

    subscription = contract(merchant, plan, dt.date(2027, 3, 1), backdate_billing=BackdateBilling.PRORATED)
    (run,) = billing_run_start(now=NOW, dispatch=lambda run_id, ids: None)
    process_chunk(run_id=run.pk, subscription_ids=[subscription.pk], now=NOW)

    invoice = Invoice.objects.get(subscription=subscription)
    assert (invoice.total, sorted(line.amount for line in invoice.lines.all())) == (14677, [4677, 10000])


@pytest.mark.parametrize("choice", list(BackdateBilling))
def test_the_preview_is_what_billing_then_charges_with_coupon_and_tax(clock, merchant, plan, choice):
    coupon = CouponFactory(merchant=merchant)  # 10 % once
    iss = TaxRateFactory(merchant=merchant)  # 5 % on top
    terms = {"contract_date": dt.date(2027, 2, 13), "coupon": coupon, "tax_rates": [iss], "quantity": 2}

    preview = subscription_contract_preview(merchant=merchant, plan=plan, now=NOW, **terms)
    subscription = contract(merchant, plan, backdate_billing=choice, **terms)

    previewed = [draft.totals.total for draft in preview[choice]]
    assert previewed == [total for _start, _end, total, _lines in billed(subscription)]
    assert sum(previewed) > 0


def test_a_plan_with_a_trial_does_not_offer_the_prorated_choice(clock, merchant):
    plan = PlanFactory(merchant=merchant, trial_days=7)

    assert set(
        subscription_contract_preview(
            merchant=merchant, plan=plan, contract_date=dt.date(2027, 3, 1), now=NOW
        )
    ) == {
        BackdateBilling.PERIODS,
        BackdateBilling.TODAY,
    }
    with pytest.raises(ValidationError) as refused:
        contract(merchant, plan, dt.date(2027, 3, 1), backdate_billing=BackdateBilling.PRORATED)
    assert "backdate_billing" in refused.value.message_dict


# --- the screen ----------------------------------------------------------------------------------------
def _form(customer, plan, **overrides):
    return {
        "customer": customer.pk,
        "contract_date": "2027-03-01",
        "plan": plan.pk,
        "quantity": "1",
        "payment_method": "card",
        "discount_type": "",
        **overrides,
    }


def _amounts(content: str) -> dict[str, str]:
    return dict(re.findall(r'data-choice="(\w+)">([^<]+)</strong>', content))


def test_a_backdated_contract_is_not_saved_before_the_amounts_were_shown(clock, owner_client, merchant, plan):
    customer = CustomerFactory(merchant=merchant)

    response = owner_client.post(CREATE_URL, _form(customer, plan))

    content = response.content.decode()
    assert response.status_code == 200
    assert not Subscription.objects.exists()
    assert "veja quanto cada opção cobra agora e escolha uma" in content
    assert _amounts(content) == {
        "periods": "R$\xa0100,00",
        "prorated": "R$\xa0146,77",
        "today": "R$\xa0100,00",
    }
    assert re.search(r'value="periods" checked', content)  # today's behaviour stays the default


def test_the_preview_box_follows_the_form(clock, owner_client, merchant, plan):
    response = owner_client.post(PREVIEW_URL, _form(CustomerFactory(merchant=merchant), plan, quantity="2"))

    assert response.status_code == 200
    assert _amounts(response.content.decode()) == {
        "periods": "R$\xa0200,00",
        "prorated": "R$\xa0293,55",
        "today": "R$\xa0200,00",
    }


def test_the_preview_box_shows_the_choices_without_the_refusal_it_exists_to_prevent(
    clock, owner_client, merchant, plan
):
    # The htmx box is the showing of the amounts: while the merchant is still filling the form it must
    # not say in red that the contract is refused for want of a choice (that is for a form sent without it).
    response = owner_client.post(PREVIEW_URL, _form(CustomerFactory(merchant=merchant), plan))

    content = response.content.decode()
    assert _amounts(content)["periods"] == "R$\xa0100,00"
    assert re.search(r'value="periods" checked', content)
    assert "veja quanto cada opção cobra agora e escolha uma" not in content
    assert 'id="backdate-error"' not in content


def test_the_preview_box_says_why_a_date_is_refused(clock, owner_client, merchant, plan):
    response = owner_client.post(
        PREVIEW_URL, _form(CustomerFactory(merchant=merchant), plan, contract_date="2017-03-01")
    )

    assert "pode retroagir no máximo até 12/02/2027" in response.content.decode()


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (
            "periods",
            "Assinatura contratada. Cobrança agora: R$\xa0100,00 — 1 período inteiro desde 01/03/2027.",
        ),
        (
            "prorated",
            "Assinatura contratada. Cobrança agora: R$\xa0146,77 — o tempo desde 01/03/2027, proporcional, "
            "e o primeiro período a partir de hoje.",
        ),
        (
            "today",
            "Assinatura contratada. Cobrança agora: R$\xa0100,00 — o primeiro período a partir de hoje; "
            "o tempo desde 01/03/2027 não é cobrado.",
        ),
    ],
)
def test_the_confirmation_says_what_is_charged(clock, owner_client, merchant, plan, choice, message):
    response = owner_client.post(
        CREATE_URL, _form(CustomerFactory(merchant=merchant), plan, backdate_billing=choice)
    )

    subscription = Subscription.objects.get()
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [message]
    total = sum(total for _s, _e, total, _l in billed(subscription))
    assert message.count(f"R$\xa0{total // 100},{total % 100:02d}") == 1
