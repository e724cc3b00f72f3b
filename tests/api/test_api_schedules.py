"""Programações through the API (docs/api.md, Programações): the schedule of a subscription read, created,
edited under the edit rules, released and cancelled by the services the screens call (the key as actor),
previewed with Próximas faturas, and billed at its boundaries by the real billing run with the clock moved.
The Pacific sells Impressa (R$ 100) and Digital (R$ 40), monthly, paid with the sandbox's test card."""

import datetime as dt

import pytest
import time_machine

from billing.choices import InvoiceKind
from billing.models import Invoice
from core.events import EventType
from core.models import Event, IdempotencyKey
from subscribers.choices import CancelOrigin, EventKind, ScheduleStatus, SubscriptionStatus
from subscribers.models import SchedulePhase, Subscription, SubscriptionEvent, SubscriptionSchedule
from tests.billing.test_schedule_billing import at, bill  # noqa: F401 — `bill` is a fixture
from tests.factories import CouponFactory, CustomerFactory, PlanFactory

pytestmark = pytest.mark.django_db
S, SS = SubscriptionStatus, ScheduleStatus
CARD = "4242424242424242"
NOW = at(2027, 1, 10, 10)


@pytest.fixture
def billing_run(bill):  # noqa: F811 — the imported fixture, by name
    """Moves the clock and runs what the scheduler runs then (the billing tests' `bill`)."""
    return bill


@pytest.fixture
def impressa(merchant):
    return PlanFactory(merchant=merchant, name="Impressa", price=10000)


@pytest.fixture
def digital(merchant):
    return PlanFactory(merchant=merchant, name="Digital", price=4000)


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, name="Ana Souza")


def _contract(api_rw, customer, plan, **extra):
    body = {"customer": customer.pk, "plan": plan.pk, "payment_token": CARD, **extra}
    with time_machine.travel(NOW, tick=False):
        response = api_rw.post("/api/v1/subscriptions", body, format="json")
    assert response.status_code == 201, response.json()
    return Subscription.objects.get(pk=response.json()["id"])


def _url(subscription, tail=""):
    return f"/api/v1/subscriptions/{subscription.pk}/schedule{tail}"


def _attach(api_rw, subscription, phases, *, moment=NOW, tail="", language="pt-br", **fields):
    with time_machine.travel(moment, tick=False):
        return api_rw.post(
            _url(subscription, tail),
            {"phases": phases, **fields},
            format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )


def _recurring_totals(subscription):
    invoices = Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.RECURRING)
    return [(invoice.period_start, invoice.total) for invoice in invoices.order_by("period_start")]


# --- read ------------------------------------------------------------------------------------------
def test_a_subscription_without_a_schedule_is_404_then_shows_the_one_attached(
    api_rw, api, customer, impressa, digital
):
    subscription = _contract(api_rw, customer, impressa)
    missing = api.get(_url(subscription))
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Esta assinatura não tem programação."
    assert api.get(_url(subscription), HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"] == (
        "This subscription has no schedule."
    )

    assert _attach(api_rw, subscription, [{"plan": digital.pk}]).status_code == 201

    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        body = api.get(_url(subscription)).json()
    assert (body["status"], body["end_behavior"], body["current_phase"]) == ("active", "release", 0)
    assert [(p["position"], p["state"], p["plan"]) for p in body["phases"]] == [
        (0, "current", impressa.pk),
        (1, "future", digital.pk),
    ]


# --- create, and the boundary billed by the billing run ---------------------------------------------
def test_attach_keeps_the_current_period_as_phase_0_and_the_billing_run_switches_at_the_boundary(
    api_rw, rw_key, customer, impressa, digital, billing_run
):
    subscription = _contract(api_rw, customer, impressa)
    billing_run(NOW)  # the first invoice: Impressa, 10/01 → 10/02
    assert _recurring_totals(subscription) == [(NOW, 10000)]

    response = _attach(api_rw, subscription, [{"plan": digital.pk, "iterations": 2}], end_behavior="cancel")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active" and body["end_behavior"] == "cancel"
    phase_0, phase_1 = body["phases"]
    assert (phase_0["plan"], phase_0["quantity"], phase_0["state"]) == (impressa.pk, 1, "current")
    assert dt.datetime.fromisoformat(phase_0["end_at"]) == at(2027, 2, 10, 10)
    assert (phase_1["plan"], phase_1["iterations"], phase_1["state"]) == (digital.pk, 2, "future")
    assert dt.datetime.fromisoformat(phase_1["end_at"]) == at(2027, 4, 10, 10)
    schedule = SubscriptionSchedule.objects.get(subscription=subscription)
    assert schedule.phases.count() == 2 and schedule.created_by is None  # a key is not a team member
    entry = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.SCHEDULE)
    assert (entry.data["by"], entry.data["api_key"], entry.data["channel"]) == (
        "api_key",
        rw_key[0].pk,
        "api",
    )
    assert Event.objects.filter(
        type=EventType.SUBSCRIPTION_SCHEDULE_CREATED, payload__id=schedule.pk
    ).exists()

    billing_run(at(2027, 2, 10, 10))  # phase 1 starts: Digital is billed
    billing_run(at(2027, 3, 10, 10))
    subscription.refresh_from_db()
    assert subscription.plan_id == digital.pk
    assert _recurring_totals(subscription) == [
        (NOW, 10000),
        (at(2027, 2, 10, 10), 4000),
        (at(2027, 3, 10, 10), 4000),
    ]
    billing_run(at(2027, 4, 10, 10))  # the last phase ends: end behaviour cancel
    subscription.refresh_from_db()
    schedule.refresh_from_db()
    assert (schedule.status, subscription.status) == (SS.COMPLETED, S.CANCELED)
    assert len(_recurring_totals(subscription)) == 3


def test_a_future_contract_takes_the_phases_from_its_start(api_rw, customer, impressa, digital):
    subscription = _contract(api_rw, customer, impressa, contract_date="2027-02-01")
    assert subscription.status == S.SCHEDULED

    response = _attach(api_rw, subscription, [{"plan": digital.pk, "iterations": 1}, {"plan": impressa.pk}])

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["current_phase"]) == ("not_started", None)
    assert [(p["plan"], dt.datetime.fromisoformat(p["start_at"])) for p in body["phases"]] == [
        (digital.pk, at(2027, 2, 1)),
        (impressa.pk, at(2027, 3, 1)),
    ]
    subscription.refresh_from_db()
    assert subscription.plan_id == digital.pk  # phase 0's terms are billed on the start date


def test_a_subscription_contracted_with_a_schedule_from_the_start(api_rw, customer, impressa, digital):
    body = {
        "customer": customer.pk,
        "plan": impressa.pk,
        "payment_token": CARD,
        "contract_date": "2027-02-01",
        "schedule": {
            "end_behavior": "cancel",
            "phases": [{"plan": impressa.pk, "iterations": 1}, {"plan": digital.pk, "iterations": 5}],
        },
    }
    with time_machine.travel(NOW, tick=False):
        response = api_rw.post("/api/v1/subscriptions", body, format="json")

    assert response.status_code == 201, response.json()
    subscription = Subscription.objects.get(pk=response.json()["id"])
    schedule = SubscriptionSchedule.objects.get(subscription=subscription)
    assert (subscription.status, subscription.origin, schedule.end_behavior) == (S.SCHEDULED, "api", "cancel")
    assert [(p.plan_id, p.end_at) for p in schedule.phases.order_by("position")] == [
        (impressa.pk, at(2027, 3, 1)),
        (digital.pk, at(2027, 8, 1)),
    ]


def test_installments_contracted_through_the_api_bill_six_times_and_end(
    api_rw, customer, impressa, billing_run
):
    """R$ 1.000 × 6 by a one-off price (no plan for it), end behaviour cancel, from the 1st of next month."""
    printer = {
        "price_name": "Impressora",
        "price_amount": 100000,
        "price_interval_unit": "month",
        "price_interval_count": 1,
        "iterations": 6,
    }
    subscription = _contract(
        api_rw,
        customer,
        impressa,
        contract_date="2027-02-01",
        schedule={"end_behavior": "cancel", "phases": [printer]},
    )

    for month in range(2, 9):
        billing_run(at(2027, month, 1))

    assert _recurring_totals(subscription) == [(at(2027, month, 1), 100000) for month in range(2, 8)]
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert SubscriptionSchedule.objects.get(subscription=subscription).status == SS.COMPLETED


def test_a_refused_schedule_at_contract_time_contracts_nothing(api_rw, customer, impressa, digital):
    body = {
        "customer": customer.pk,
        "plan": impressa.pk,
        "payment_token": CARD,
        "contract_date": "2027-02-01",
        # A phase that is not the last needs an end.
        "schedule": {"phases": [{"plan": impressa.pk}, {"plan": digital.pk}]},
    }
    with time_machine.travel(NOW, tick=False):
        response = api_rw.post("/api/v1/subscriptions", body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("no_end", ["schedule.phases[0].iterations"])
    assert not Subscription.objects.exists()
    assert not SubscriptionSchedule.objects.exists()


# --- field errors ----------------------------------------------------------------------------------
def test_errors_name_the_phase_of_the_body_in_the_request_language(api_rw, customer, impressa, digital):
    subscription = _contract(api_rw, customer, impressa)

    # The body's own checks (the serializer) and the schedule's rules (the service), each by body index:
    # phase 0 of the schedule is the subscription's current terms, not one of the phases sent.
    invalid = _attach(api_rw, subscription, [{"plan": digital.pk, "quantity": 0}])
    assert invalid.status_code == 400
    assert list(invalid.json()["error"]["fields"]) == ["phases[0].quantity"]

    refused = _attach(
        api_rw,
        subscription,
        [
            {"plan": digital.pk},
            {
                "plan": impressa.pk,
                "coupon": CouponFactory(merchant=impressa.merchant).pk,
                "discount_percent": "10",
            },
        ],
        language="en",
    )
    assert refused.status_code == 400
    fields = refused.json()["error"]["fields"]
    assert fields == {
        "phases[0].iterations": ["Enter when the phase ends: a date or a number of periods."],
        "phases[1].discount_percent": ["Use a coupon or a discount, not both."],
    }
    assert not SubscriptionSchedule.objects.exists()


def test_a_second_schedule_is_refused(api_rw, customer, impressa, digital):
    subscription = _contract(api_rw, customer, impressa)
    assert _attach(api_rw, subscription, [{"plan": digital.pk}]).status_code == 201
    again = _attach(api_rw, subscription, [{"plan": digital.pk}])
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "schedule_exists"
    assert again.json()["error"]["fields"] == {
        "non_field_errors": ["Esta assinatura já tem uma programação."]
    }


# --- update ----------------------------------------------------------------------------------------
def test_update_replaces_the_future_phases_and_keeps_what_is_not_sent(api_rw, customer, impressa, digital):
    subscription = _contract(api_rw, customer, impressa)
    phases = _attach(api_rw, subscription, [{"plan": digital.pk}]).json()["phases"]

    # What GET shows goes back as it came, with the future phase changed and one more added.
    phases[1].update(quantity=2, iterations=3)
    phases.append({"plan": impressa.pk})
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        response = api_rw.patch(_url(subscription), {"phases": phases}, format="json")
        assert response.status_code == 200, response.json()
        assert [(p["plan"], p["quantity"]) for p in response.json()["phases"]] == [
            (impressa.pk, 1),
            (digital.pk, 2),
            (impressa.pk, 1),
        ]
        only_end = api_rw.patch(_url(subscription), {"end_behavior": "cancel"}, format="json")
    assert only_end.status_code == 200
    schedule = SubscriptionSchedule.objects.get()
    assert (schedule.end_behavior, schedule.phases.count()) == ("cancel", 3)
    assert list(schedule.phases.order_by("position").values_list("quantity", flat=True)) == [1, 2, 1]
    assert Event.objects.filter(type=EventType.SUBSCRIPTION_SCHEDULE_UPDATED).count() == 2


def test_a_schedule_read_and_sent_back_unchanged_changes_nothing(api_rw, customer, impressa, digital):
    """The answer's phases are the writes' phases: a pause block and a date end included."""
    subscription = _contract(api_rw, customer, impressa)
    pause = {"kind": "pause", "end_date": "2027-04-15", "resume_mode": "continue"}
    created = _attach(
        api_rw, subscription, [{"plan": digital.pk, "iterations": 1}, pause, {"plan": impressa.pk}]
    )
    assert created.status_code == 201, created.json()
    shown = created.json()["phases"]
    assert [p["kind"] for p in shown] == ["terms", "terms", "pause", "terms"]
    assert dt.datetime.fromisoformat(shown[2]["end_at"]) == at(2027, 4, 15)  # the merchant's midnight
    assert shown[2]["resume_mode"] == "continue"

    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        response = api_rw.patch(_url(subscription), {"phases": shown}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["phases"] == shown
    assert not Event.objects.filter(type=EventType.SUBSCRIPTION_SCHEDULE_UPDATED).exists()


def test_update_follows_the_edit_rules_with_field_errors(api_rw, customer, impressa, digital, billing_run):
    subscription = _contract(api_rw, customer, impressa)
    billing_run(NOW)
    phases = _attach(api_rw, subscription, [{"plan": digital.pk, "iterations": 2}]).json()["phases"]
    billing_run(at(2027, 2, 10, 10))  # phase 0 ended, phase 1 runs
    later = at(2027, 2, 11)

    with time_machine.travel(later, tick=False):
        shown = api_rw.get(_url(subscription)).json()["phases"]
        assert [p["state"] for p in shown] == ["past", "current"]
        past = [dict(shown[0], quantity=3), shown[1]]
        frozen = api_rw.patch(_url(subscription), {"phases": past}, format="json", HTTP_ACCEPT_LANGUAGE="en")
        running = [shown[0], dict(shown[1], plan=impressa.pk)]
        limited = api_rw.patch(_url(subscription), {"phases": running}, format="json")
        quantity = [shown[0], dict(shown[1], quantity=2)]
        allowed = api_rw.patch(
            _url(subscription), {"phases": quantity, "running_proration": "none"}, format="json"
        )

    assert frozen.status_code == 400
    assert frozen.json()["error"]["code"] == "phase_frozen"
    assert frozen.json()["error"]["fields"] == {
        "phases[0].quantity": ["This phase has ended and cannot be changed."]
    }
    assert limited.status_code == 400
    assert limited.json()["error"]["code"] == "current_phase_limited"
    assert list(limited.json()["error"]["fields"]) == ["phases[1].plan"]
    assert allowed.status_code == 200, allowed.json()
    subscription.refresh_from_db()
    assert (subscription.plan_id, subscription.quantity) == (digital.pk, 2)
    assert phases[0]["plan"] == impressa.pk


# --- release, cancel -------------------------------------------------------------------------------
def test_release_keeps_the_current_terms_and_the_later_phases_never_happen(
    api_rw, customer, impressa, digital, billing_run
):
    subscription = _contract(api_rw, customer, impressa)
    billing_run(NOW)
    _attach(api_rw, subscription, [{"plan": digital.pk}])

    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        response = api_rw.post(_url(subscription, "/release"), format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "released"
    billing_run(at(2027, 2, 10, 10))
    subscription.refresh_from_db()
    assert subscription.plan_id == impressa.pk
    assert _recurring_totals(subscription)[-1] == (at(2027, 2, 10, 10), 10000)
    # GET shows the schedule it had; releasing again is refused with the service's reason.
    again = api_rw.post(_url(subscription, "/release"), format="json")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_transition"


def test_cancel_ends_schedule_and_subscription_with_origin_and_reason(
    api_rw, customer, impressa, digital, billing_run
):
    subscription = _contract(api_rw, customer, impressa)
    billing_run(NOW)
    _attach(api_rw, subscription, [{"plan": digital.pk}])

    missing = api_rw.post(_url(subscription, "/cancel"), {}, format="json")
    assert missing.status_code == 400
    assert list(missing.json()["error"]["fields"]) == ["origin"]

    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        response = api_rw.post(
            _url(subscription, "/cancel"), {"origin": "customer", "reason": "Mudou de cidade"}, format="json"
        )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["status"]) == (subscription.pk, "canceled")
    assert dt.datetime.fromisoformat(body["access_until"]) == at(2027, 2, 10, 10)  # the paid period
    subscription.refresh_from_db()
    assert subscription.cancel_origin == CancelOrigin.CUSTOMER
    assert SubscriptionSchedule.objects.get().status == SS.CANCELED
    assert Event.objects.filter(type=EventType.SUBSCRIPTION_SCHEDULE_CANCELED).count() == 1


# --- previews --------------------------------------------------------------------------------------
def test_preview_is_what_the_schedule_then_bills_and_saves_nothing(
    api_rw, customer, impressa, digital, billing_run
):
    subscription = _contract(api_rw, customer, impressa)
    billing_run(NOW)
    phases = [{"plan": digital.pk, "iterations": 2}, {"plan": impressa.pk, "quantity": 2}]

    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        before = api_rw.get(f"/api/v1/subscriptions/{subscription.pk}/upcoming_invoices").json()
        preview = api_rw.post(_url(subscription, "/preview"), {"phases": phases}, format="json")
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert not SubscriptionSchedule.objects.exists()
    assert not SchedulePhase.objects.exists()
    assert [invoice["total"] for invoice in before["invoices"]][:3] == [10000, 10000, 10000]
    assert [invoice["total"] for invoice in body["invoices"]][:4] == [4000, 4000, 20000, 20000]
    assert body["invoices"][0]["lines"][0]["description"].startswith("Digital")

    _attach(api_rw, subscription, phases, moment=NOW + dt.timedelta(hours=1))
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        after = api_rw.get(f"/api/v1/subscriptions/{subscription.pk}/upcoming_invoices").json()
    assert body.pop("now") is None  # no running phase: nothing is billed at once
    assert after == body


def test_preview_says_what_a_prorated_change_of_the_running_phase_charges_now(
    api_rw, customer, impressa, digital, billing_run
):
    """The editor's "Ratear agora" money, through the API: what PATCH then bills at once, to the centavo."""
    subscription = _contract(api_rw, customer, impressa)
    billing_run(NOW)
    shown = _attach(api_rw, subscription, [{"plan": digital.pk, "iterations": 2}]).json()["phases"]
    doubled = [dict(shown[0], quantity=2), shown[1]]

    with time_machine.travel(at(2027, 1, 25, 10), tick=False):
        prorate = api_rw.post(
            _url(subscription, "/preview"), {"phases": doubled, "running_proration": "prorate"}, format="json"
        )
        none = api_rw.post(_url(subscription, "/preview"), {"phases": doubled}, format="json")
        assert prorate.status_code == 200, prorate.json()
        assert not Invoice.objects.filter(kind=InvoiceKind.PRORATION).exists()  # a preview bills nothing
        saved = api_rw.patch(
            _url(subscription), {"phases": doubled, "running_proration": "prorate"}, format="json"
        )
    assert saved.status_code == 200, saved.json()
    # 16 of the period's 31 days left: Impressa × 2 for them (R$ 200 × 16/31 = R$ 103,23) less the unused
    # Impressa × 1 paid (R$ 100 × 16/31 = R$ 51,61), each rounded on its own line: R$ 51,62 now.
    assert prorate.json()["now"]["total"] == 5162
    assert none.json()["now"] is None
    billed = Invoice.objects.get(subscription=subscription, kind=InvoiceKind.PRORATION)
    assert billed.total == 5162


def test_preview_shows_the_schedules_refusals(api_rw, customer, impressa, digital):
    subscription = _contract(api_rw, customer, impressa)
    response = _attach(api_rw, subscription, [{"plan": digital.pk}, {"plan": impressa.pk}], tail="/preview")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["phases[0].iterations"]


# --- keys and idempotency --------------------------------------------------------------------------
def test_a_read_only_key_reads_the_schedule_but_cannot_change_it(api, api_rw, customer, impressa, digital):
    subscription = _contract(api_rw, customer, impressa)
    _attach(api_rw, subscription, [{"plan": digital.pk}])
    assert api.get(_url(subscription)).status_code == 200
    for tail in ("", "/release", "/cancel", "/preview"):
        response = api.post(_url(subscription, tail), {}, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["type"] == "permission_error"
    assert api.patch(_url(subscription), {"end_behavior": "cancel"}, format="json").status_code == 403
    assert SubscriptionSchedule.objects.get().status == SS.ACTIVE


def test_a_replayed_create_answers_the_first_response_and_another_body_is_422(
    api_rw, customer, impressa, digital
):
    subscription = _contract(api_rw, customer, impressa)
    body = {"phases": [{"plan": digital.pk}]}
    with time_machine.travel(NOW, tick=False):
        first = api_rw.post(_url(subscription), body, format="json", HTTP_IDEMPOTENCY_KEY="prog-1")
        replay = api_rw.post(_url(subscription), body, format="json", HTTP_IDEMPOTENCY_KEY="prog-1")
        other = api_rw.post(
            _url(subscription),
            {"phases": [{"plan": impressa.pk}]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="prog-1",
        )
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert SubscriptionSchedule.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_another_merchants_subscription_is_404_on_every_schedule_route(
    api_rw, other_merchant, customer, impressa, digital
):
    from subscribers.services.schedules import PhaseSpec, schedule_create
    from tests.factories import SubscriptionFactory

    foreign = SubscriptionFactory(merchant=other_merchant)
    schedule_create(subscription=foreign, actor=None, phases=[PhaseSpec(plan=foreign.plan)])
    mine = _contract(api_rw, customer, impressa)
    # The body names this merchant's own plan: only the subscription in the path is foreign.
    body = {"phases": [{"plan": digital.pk}], "origin": "customer"}
    for method, tail in [
        ("get", ""),
        ("post", ""),
        ("patch", ""),
        ("post", "/release"),
        ("post", "/cancel"),
        ("post", "/preview"),
        ("get", "/upcoming_invoices"),
    ]:
        url = (
            f"/api/v1/subscriptions/{foreign.pk}{tail}"
            if tail == "/upcoming_invoices"
            else _url(foreign, tail)
        )
        response = getattr(api_rw, method)(url, body, format="json")
        assert response.status_code == 404, (method, url)
    foreign.refresh_from_db()
    assert foreign.status == S.ACTIVE
    assert SubscriptionSchedule.objects.get(subscription=foreign).status == SS.ACTIVE
    assert not SubscriptionSchedule.objects.filter(subscription=mine).exists()
