"""Cobranças > Pagamentos and "Simular pagamento" of a pending sandbox boleto or pix."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.text import slugify

from billing.choices import Gateway, InvoiceStatus, PaymentStatus
from billing.models import Invoice, Payment, SandboxCharge
from core.models import Event
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.models import Customer, Subscription
from tests.factories import (
    CustomerFactory,
    InvoiceFactory,
    PaymentFactory,
    PlanFactory,
    SandboxChargeFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("billing:payment_list")
UTC = dt.UTC


def payment_for(merchant, name, *, number=None, **fields):
    customer = CustomerFactory(
        merchant=merchant, name=name, email=slugify(name).replace("-", ".") + "@example.com"
    )
    subscription = SubscriptionFactory(merchant=merchant, customer=customer)
    invoice_fields = {"number": number} if number else {}
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription, **invoice_fields)
    return PaymentFactory(merchant=merchant, invoice=invoice, **fields)


def pending_sandbox_payment(
    merchant, *, method=PaymentMethod.PIX, subscription_status=SubscriptionStatus.ACTIVE
):
    """A pending boleto/pix the sandbox knows about, as the billing run leaves it."""
    subscription = SubscriptionFactory(merchant=merchant, payment_method=method, status=subscription_status)
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription, subtotal=4990, attempt_count=1)
    charge = SandboxChargeFactory(merchant=merchant, method=method, amount=4990)
    return PaymentFactory(
        merchant=merchant,
        invoice=invoice,
        method=method,
        amount=4990,
        status=PaymentStatus.PENDING,
        gateway_reference=charge.reference,
        expires_at=charge.expires_at,
    )


def listed(client, **params):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return [row.record.invoice.customer.name for row in response.context["table"].page.object_list]


def set_created_at(payment, when):
    Payment.objects.filter(pk=payment.pk).update(created_at=when)


# --- the list ------------------------------------------------------------------------------------------
def test_the_list_shows_the_merchants_payments_newest_first(owner_client, merchant, other_merchant):
    old = payment_for(merchant, "Antigo")
    new = payment_for(merchant, "Novo")
    payment_for(other_merchant, "De Fora")
    set_created_at(old, dt.datetime(2026, 1, 1, tzinfo=UTC))
    set_created_at(new, dt.datetime(2026, 2, 1, tzinfo=UTC))

    assert listed(owner_client) == ["Novo", "Antigo"]


def test_the_table_shows_formatted_columns(owner_client, merchant):
    payment = payment_for(
        merchant,
        "Ana Souza",
        number=321,
        amount=123456,
        method=PaymentMethod.CARD,
        status=PaymentStatus.FAILED,
        failure_code="card_declined",
        failure_message="Cartão recusado pelo emissor.",
    )
    set_created_at(payment, dt.datetime(2026, 3, 7, 15, 0, tzinfo=UTC))

    content = owner_client.get(LIST_URL).content.decode()

    assert f'href="{payment.invoice.get_absolute_url()}"' in content
    for text in [
        "07/03/2026",
        "Ana Souza",
        "nº 321",
        "R$\xa01.234,56",
        "Cartão de crédito",
        "Sandbox (testes)",
        '<span class="badge text-bg-danger">Falhou</span>',
        "Cartão recusado pelo emissor.",
    ]:
        assert text in content, text


def test_the_failure_column_falls_back_to_the_code(owner_client, merchant):
    # A code that is not one of ours (FailureCode), without a message from the provider
    payment_for(merchant, "Ana", status=PaymentStatus.FAILED, failure_code="processing_error")
    response = owner_client.get(LIST_URL)
    assert response.context["table"].rows[0].get_cell("failure") == "processing_error"


def test_the_empty_list_says_so(owner_client, merchant):
    assert "Nenhum pagamento ainda." in owner_client.get(LIST_URL).content.decode()


def test_viewer_can_read_the_list(member_client, viewer, merchant):
    payment_for(merchant, "Ana")
    assert listed(member_client(viewer)) == ["Ana"]


# --- filters -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", list(PaymentStatus))
def test_status_filter(owner_client, merchant, status):
    for each in PaymentStatus:
        payment_for(merchant, f"Cliente {each.value}", status=each)

    assert listed(owner_client, status=status) == [f"Cliente {status.value}"]


@pytest.mark.parametrize("method", list(PaymentMethod))
def test_method_filter(owner_client, merchant, method):
    for each in PaymentMethod:
        payment_for(merchant, f"Cliente {each.value}", method=each)

    assert listed(owner_client, method=method) == [f"Cliente {method.value}"]


def test_gateway_filter(owner_client, merchant):
    payment_for(merchant, "Sandbox", gateway=Gateway.SANDBOX)
    payment_for(merchant, "Manual", gateway=Gateway.MANUAL, method=PaymentMethod.MANUAL)

    assert listed(owner_client, gateway="manual") == ["Manual"]


def test_period_filter_counts_days_on_the_merchants_clock(owner_client, merchant):
    before = payment_for(merchant, "Antes")
    inside = payment_for(merchant, "Dentro")
    after = payment_for(merchant, "Depois")
    set_created_at(before, dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC))  # 28 Feb in São Paulo
    set_created_at(inside, dt.datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 1 Mar, 23:00 in São Paulo
    set_created_at(after, dt.datetime(2026, 3, 2, 4, 0, tzinfo=UTC))  # 2 Mar

    assert listed(owner_client, created_from="2026-03-01", created_to="2026-03-01") == ["Dentro"]
    assert listed(owner_client, created_from="2026-03-02") == ["Depois"]
    assert listed(owner_client, created_to="2026-02-28") == ["Antes"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("souza", ["Ana Souza"]),
        ("bruno.lima@", ["Bruno Lima"]),
        ("777", ["Bruno Lima"]),
        ("sbx_ch_procurado", ["Ana Souza"]),
        ("ninguém", []),
    ],
)
def test_search_by_customer_invoice_number_or_reference(owner_client, merchant, query, expected):
    payment_for(merchant, "Ana Souza", number=555, gateway_reference="sbx_ch_procurado")
    payment_for(merchant, "Bruno Lima", number=777)

    assert listed(owner_client, q=query) == expected


def test_list_query_count_does_not_grow_with_rows(owner_client, merchant, django_assert_max_num_queries):
    plan = PlanFactory(merchant=merchant)
    customers = Customer.objects.bulk_create(
        Customer(merchant=merchant, name=f"Cliente {n:03d}", email=f"cliente{n}@example.com")
        for n in range(200)
    )
    now = dt.datetime(2026, 3, 1, tzinfo=UTC)
    subscriptions = Subscription.objects.bulk_create(
        Subscription(
            merchant=merchant,
            customer=customer,
            plan=plan,
            amount=plan.price,
            contract_date=now.date(),
            billing_cycle_anchor=now,
        )
        for customer in customers
    )
    invoices = Invoice.objects.bulk_create(
        Invoice(
            merchant=merchant,
            subscription=subscription,
            customer_id=subscription.customer_id,
            number=n + 1,
            period_start=now,
            period_end=now + dt.timedelta(days=31),
            due_at=now,
            subtotal=4990,
            total=4990,
        )
        for n, subscription in enumerate(subscriptions)
    )
    Payment.objects.bulk_create(
        Payment(
            merchant=merchant,
            invoice=invoice,
            amount=4990,
            method=PaymentMethod.CARD,
            status=[PaymentStatus.SUCCEEDED, PaymentStatus.FAILED][n % 2],
            failure_code="card_declined" if n % 2 else "",
            idempotency_key=f"inv_{invoice.pk}_att_1",
        )
        for n, invoice in enumerate(invoices)
    )

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"page": 2, "sort": "customer", "created_from": "2026-01-01"})
    assert len(response.context["table"].page.object_list) == 25

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"status": "failed", "method": "card", "q": "cliente"})
    assert response.context["table"].paginator.count == 100


# --- "Simular pagamento" -------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [PaymentMethod.PIX, PaymentMethod.BOLETO])
def test_manager_simulates_a_pending_payment_and_the_invoice_is_paid(
    member_client, manager, merchant, method
):
    payment = pending_sandbox_payment(merchant, method=method)
    url = reverse("billing:payment_settle", args=[payment.pk])
    client = member_client(manager)

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "R$\xa049,90" in confirm.content.decode()

    response = client.post(url, follow=True)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.settled_at is not None
    assert Invoice.objects.get(pk=payment.invoice_id).status == InvoiceStatus.PAID
    assert SandboxCharge.objects.get(reference=payment.gateway_reference).status == PaymentStatus.SUCCEEDED
    assert response.redirect_chain[-1][0] == payment.invoice.get_absolute_url()
    assert "Pagamento simulado." in response.content.decode()
    assert Event.objects.filter(merchant=merchant, type="payment.succeeded").exists()


def test_simulating_moves_a_pending_subscription_to_active(owner_client, merchant):
    payment = pending_sandbox_payment(merchant, subscription_status=SubscriptionStatus.PENDING)

    owner_client.post(reverse("billing:payment_settle", args=[payment.pk]))

    assert Subscription.objects.get(pk=payment.invoice.subscription_id).status == SubscriptionStatus.ACTIVE


def test_simulating_a_payment_that_is_not_pending_is_refused_with_a_message(owner_client, merchant):
    payment = payment_for(merchant, "Ana", status=PaymentStatus.SUCCEEDED)

    response = owner_client.post(reverse("billing:payment_settle", args=[payment.pk]), follow=True)

    assert "Só um pagamento pendente do sandbox pode ser simulado." in response.content.decode()


def test_simulating_an_expired_charge_is_refused(owner_client, merchant):
    payment = pending_sandbox_payment(merchant)
    SandboxCharge.objects.filter(reference=payment.gateway_reference).update(
        expires_at=dt.datetime(2020, 1, 1, tzinfo=UTC)
    )

    response = owner_client.post(reverse("billing:payment_settle", args=[payment.pk]), follow=True)

    assert "expirou" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


@pytest.mark.parametrize("role", ["viewer", "support"])
def test_roles_without_manage_billing_cannot_simulate(request, member_client, merchant, role):
    payment = pending_sandbox_payment(merchant)
    client = member_client(request.getfixturevalue(role))
    url = reverse("billing:payment_settle", args=[payment.pk])

    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_another_merchants_payment_is_404(owner_client, other_merchant):
    payment = pending_sandbox_payment(other_merchant)
    url = reverse("billing:payment_settle", args=[payment.pk])

    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url).status_code == 404
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
