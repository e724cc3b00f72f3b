"""Próximas faturas benchmark: the time to preview 12 invoices (bar: < 200 ms), the card's htmx request and
the Simular inadimplência panel, on PostgreSQL.

    scripts/with-postgres.sh bash -c '.venv/bin/python manage.py migrate --noinput &&
        .venv/bin/python -m bench.upcoming'

Builds one merchant (its previous run's rows removed first) and one subscription with everything the
preview walks: a 3-month coupon, a manual discount, an exclusive and an inclusive tax, a pending plan
change, a credit balance and 24 invoices already billed; then times `upcoming_invoices(subscription, 12)`
in-process (the selects included), GET of the card as htmx and of the simulation panel, `--repeat` times
each after one warm-up, printing p50 / p95 / max and the number of queries of one call.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

BENCH_SLUG = "bench-upcoming"


def _timed(call, repeat):
    call()  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]
    return statistics.median(samples), p95, samples[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from accounts.choices import Role
    from accounts.models import Membership, Merchant
    from billing.models import CreditEntry, Invoice, InvoiceLine
    from billing.services.upcoming import simulate_dunning, upcoming_invoices
    from plans.models import Coupon, Plan, TaxRate
    from subscribers.models import Customer, Subscription

    if connection.vendor != "postgresql":
        sys.exit("bench.upcoming runs on PostgreSQL (scripts/with-postgres.sh)")
    from django.contrib.auth import get_user_model

    old = Merchant.objects.filter(slug=BENCH_SLUG).first()
    if old is not None:
        InvoiceLine.objects.filter(invoice__merchant=old).delete()
        Invoice.objects.filter(merchant=old).delete()
        CreditEntry.objects.filter(merchant=old).delete()
        Subscription.objects.filter(merchant=old).delete()
        old.delete()
    merchant = Merchant.objects.create(name="Bench Próximas faturas", slug=BENCH_SLUG)
    user, _created = get_user_model().objects.get_or_create(username="bench-upcoming")
    Membership.objects.get_or_create(user=user, merchant=merchant, defaults={"role": Role.VIEWER})
    now = timezone.now()
    plan = Plan.objects.create(merchant=merchant, name="Impressa", price=8990)
    digital = Plan.objects.create(merchant=merchant, name="Digital", price=3990)
    coupon = Coupon.objects.create(
        merchant=merchant,
        code="TRES",
        kind="percent",
        percent_off=Decimal("30"),
        duration="repeating",
        duration_in_months=3,
    )
    customer = Customer.objects.create(merchant=merchant, name="Leitora", email="leitora@example.com")
    anchor = now - dt.timedelta(days=24 * 30 + 10)
    subscription = Subscription.objects.create(
        merchant=merchant,
        customer=customer,
        plan=plan,
        quantity=2,
        status="active",
        payment_method="card",
        contract_date=anchor.date(),
        billing_cycle_anchor=anchor,
        started_at=anchor,
        current_period_start=now - dt.timedelta(days=10),
        current_period_end=now + dt.timedelta(days=20),
        next_invoice_at=now + dt.timedelta(days=20),
        coupon=coupon,
        coupon_applied_at=now - dt.timedelta(days=10),
        discount_type="fixed",
        discount_amount=500,
        discount_periods=30,
        pending_plan=digital,
    )
    subscription.tax_rates.set(
        [
            TaxRate.objects.create(merchant=merchant, name="ISS", percentage=Decimal("5")),
            TaxRate.objects.create(merchant=merchant, name="ICMS", percentage=Decimal("18"), inclusive=True),
        ]
    )
    for n in range(24):
        start = anchor + dt.timedelta(days=30 * n)
        Invoice.objects.create(
            merchant=merchant,
            subscription=subscription,
            customer=customer,
            number=n + 1,
            status="paid",
            period_start=start,
            period_end=start + dt.timedelta(days=30),
            subtotal=17980,
            total=17980,
            due_at=start,
        )
    CreditEntry.objects.create(
        merchant=merchant, customer=customer, currency="BRL", amount=5000, reason="adjustment"
    )

    def load():
        return (
            Subscription.objects.select_related("merchant", "plan", "customer", "coupon", "pending_plan")
            .prefetch_related("tax_rates")
            .get(pk=subscription.pk)
        )

    client = Client()
    client.force_login(user)
    card = reverse("billing:subscription_upcoming_invoices", args=[subscription.pk])
    panel = reverse("billing:subscription_dunning_simulation", args=[subscription.pk])
    cases = [
        ("upcoming_invoices(12), with the selects", lambda: upcoming_invoices(load(), 12)),
        ("simulate_dunning, with the selects", lambda: simulate_dunning(load())),
        ("GET card (htmx)", lambda: client.get(card, HTTP_HX_REQUEST="true", secure=True)),
        ("GET simulation panel (htmx)", lambda: client.get(panel, HTTP_HX_REQUEST="true", secure=True)),
    ]
    for url in (card, panel):
        response = client.get(url, HTTP_HX_REQUEST="true", secure=True)
        assert response.status_code == 200, (url, response.status_code)
    print(f"Próximas faturas bench: {args.repeat} runs each, PostgreSQL {connection.pg_version}")
    for name, call in cases:
        # The test client resets the query log when a request starts: requests are timed, not counted
        # (tests/billing/test_upcoming_views.py bounds the card's queries).
        with CaptureQueriesContext(connection) as queries:
            result = call()
        counted = "" if hasattr(result, "status_code") else f"  {len(queries)} queries"
        p50, p95, worst = _timed(call, args.repeat)
        print(f"  {name:42} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {worst:6.1f} ms{counted}")
    assert len(upcoming_invoices(load(), 12).invoices) == 12


if __name__ == "__main__":
    main()
