"""Cobranças > Faturas: the list and its filters, an invoice's page, "Registrar pagamento", and the
subscription page's "Transações"."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.text import slugify

from billing.choices import Gateway, InvoiceStatus, PaymentStatus
from billing.models import Invoice, Payment
from core.models import Event
from subscribers.choices import PaymentMethod
from subscribers.models import Customer, Subscription
from tests.factories import (
    CustomerFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    PaymentFactory,
    PlanFactory,
    RefundFactory,
    SandboxChargeFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("billing:invoice_list")
UTC = dt.UTC


def invoice_for(merchant, name, *, payment_method=PaymentMethod.CARD, document="", **fields):
    email = slugify(name).replace("-", ".") + "@example.com"
    customer = CustomerFactory(merchant=merchant, name=name, email=email, document=document)
    subscription = SubscriptionFactory(merchant=merchant, customer=customer, payment_method=payment_method)
    return InvoiceFactory(merchant=merchant, subscription=subscription, **fields)


def listed(client, **params):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return [row.record.customer.name for row in response.context["table"].page.object_list]


def set_created_at(invoice, when):
    Invoice.objects.filter(pk=invoice.pk).update(created_at=when)


# --- the list ------------------------------------------------------------------------------------------
def test_the_list_shows_the_merchants_invoices_newest_first(owner_client, merchant, other_merchant):
    old = invoice_for(merchant, "Antiga")
    new = invoice_for(merchant, "Nova")
    invoice_for(other_merchant, "De Fora")
    set_created_at(old, dt.datetime(2026, 1, 1, tzinfo=UTC))
    set_created_at(new, dt.datetime(2026, 2, 1, tzinfo=UTC))

    assert listed(owner_client) == ["Nova", "Antiga"]


def test_the_table_shows_formatted_columns(owner_client, merchant):
    invoice = invoice_for(
        merchant,
        "Ana Souza",
        number=1234,
        subtotal=123456,
        attempt_count=2,
        period_start=dt.datetime(2026, 3, 7, 15, 0, tzinfo=UTC),
        period_end=dt.datetime(2026, 4, 7, 15, 0, tzinfo=UTC),
        next_attempt_at=dt.datetime(2026, 3, 9, 15, 0, tzinfo=UTC),
    )
    set_created_at(invoice, dt.datetime(2026, 3, 7, 15, 0, tzinfo=UTC))

    response = owner_client.get(LIST_URL)
    content = response.content.decode()

    assert f'href="{invoice.get_absolute_url()}"' in content
    assert f'href="{invoice.subscription.get_absolute_url()}"' in content  # the customer links to it
    for text in [
        "nº 1234",
        "Ana Souza",
        "07/03/2026 – 07/04/2026",
        "R$\xa01.234,56",
        '<span class="badge text-bg-warning">Em aberto</span>',
        "09/03/2026",
    ]:
        assert text in content
    assert response.context["table"].rows[0].get_cell("attempt_count") == 2


def test_the_empty_list_says_so(owner_client, merchant):
    content = owner_client.get(LIST_URL).content.decode()
    assert "Nenhuma fatura ainda" in content


def test_htmx_requests_get_only_the_results(owner_client, merchant):
    invoice_for(merchant, "Ana")

    response = owner_client.get(LIST_URL, headers={"HX-Request": "true"})

    assert "<html" not in response.content.decode()
    assert "Ana" in response.content.decode()


def test_viewer_can_read_the_list(member_client, viewer, merchant):
    invoice_for(merchant, "Ana")
    assert listed(member_client(viewer)) == ["Ana"]


# --- filters -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", list(InvoiceStatus))
def test_status_filter(owner_client, merchant, status):
    for each in InvoiceStatus:
        invoice_for(merchant, f"Cliente {each.value}", status=each)

    assert listed(owner_client, status=status) == [f"Cliente {status.value}"]


@pytest.mark.parametrize("method", list(PaymentMethod))
def test_payment_method_filter_uses_the_subscriptions_method(owner_client, merchant, method):
    for each in PaymentMethod:
        invoice_for(merchant, f"Cliente {each.value}", payment_method=each)

    assert listed(owner_client, payment_method=method) == [f"Cliente {method.value}"]


def test_created_from_filter_counts_days_on_the_merchants_clock(owner_client, merchant):
    before = invoice_for(merchant, "Antes")
    on_the_day = invoice_for(merchant, "No dia")
    # 02:00 UTC on 1 March is still 28 February in São Paulo.
    set_created_at(before, dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    set_created_at(on_the_day, dt.datetime(2026, 3, 1, 4, 0, tzinfo=UTC))

    assert listed(owner_client, created_from="2026-03-01") == ["No dia"]


def test_created_to_filter_includes_the_whole_last_day(owner_client, merchant):
    last_day = invoice_for(merchant, "Último dia")
    after = invoice_for(merchant, "Depois")
    set_created_at(last_day, dt.datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 1 March, 23:00 in São Paulo
    set_created_at(after, dt.datetime(2026, 3, 2, 4, 0, tzinfo=UTC))

    assert listed(owner_client, created_to="2026-03-01") == ["Último dia"]


def test_period_filter_with_both_bounds(owner_client, merchant):
    for day, name in [(1, "Jan"), (15, "Meio"), (28, "Fim")]:
        set_created_at(invoice_for(merchant, name), dt.datetime(2026, 2, day, 15, 0, tzinfo=UTC))

    assert listed(owner_client, created_from="2026-02-10", created_to="2026-02-20") == ["Meio"]


def test_invalid_dates_are_reported_not_ignored(owner_client, merchant):
    invoice_for(merchant, "Ana")
    response = owner_client.get(LIST_URL, {"created_from": "31/02/2026"})
    assert response.status_code == 200
    assert response.context["filter"].errors


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("souza", ["Ana Souza"]),
        ("bruno.lima@", ["Bruno Lima"]),
        ("777", ["Bruno Lima"]),
        ("nº 777", ["Bruno Lima"]),
        ("#777", ["Bruno Lima"]),
        ("ninguém", []),
    ],
)
def test_search_by_name_email_or_number(owner_client, merchant, query, expected):
    invoice_for(merchant, "Ana Souza", number=555)
    invoice_for(merchant, "Bruno Lima", number=777)

    assert listed(owner_client, q=query) == expected


def test_filtered_empty_list_offers_to_clear_filters(owner_client, merchant):
    invoice_for(merchant, "Ana", status=InvoiceStatus.OPEN)
    content = owner_client.get(LIST_URL, {"status": "paid"}).content.decode()
    assert "Nenhuma fatura encontrada para estes filtros." in content


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
            payment_method=[PaymentMethod.CARD, PaymentMethod.PIX][n % 2],
            contract_date=now.date(),
            billing_cycle_anchor=now,
        )
        for n, customer in enumerate(customers)
    )
    Invoice.objects.bulk_create(
        Invoice(
            merchant=merchant,
            subscription=subscription,
            customer_id=subscription.customer_id,
            number=n + 1,
            status=[InvoiceStatus.OPEN, InvoiceStatus.PAID][n % 2],
            period_start=now,
            period_end=now + dt.timedelta(days=31),
            due_at=now,
            subtotal=4990,
            total=4990,
            next_attempt_at=now if n % 2 == 0 else None,
        )
        for n, subscription in enumerate(subscriptions)
    )

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"page": 2, "sort": "customer", "created_from": "2026-01-01"})
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 25

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"status": "open", "payment_method": "card", "q": "cliente"})
    assert response.status_code == 200
    assert response.context["table"].paginator.count == 100


# --- the invoice's page --------------------------------------------------------------------------------
def test_the_invoice_page_shows_parties_lines_totals_payments_and_refunds(owner_client, merchant):
    invoice = invoice_for(
        merchant,
        "Ana Souza",
        document="12345678909",
        number=42,
        subtotal=10000,
        discount=1000,
        tax=450,
        status=InvoiceStatus.PAID,
        amount_paid=9450,
    )
    InvoiceLineFactory(
        invoice=invoice,
        description="Clube do Vinho",
        quantity=2,
        unit_amount=5000,
        amount=10000,
        discount_amount=1000,
        tax_amount=450,
    )
    PaymentFactory(
        merchant=merchant,
        invoice=invoice,
        attempt=1,
        status=PaymentStatus.FAILED,
        failure_code="card_declined",
        failure_message="Cartão recusado pelo emissor.",
        amount=9450,
    )
    paid = PaymentFactory(merchant=merchant, invoice=invoice, attempt=2, amount=9450)
    RefundFactory(merchant=merchant, payment=paid, amount=2000, reason="Cobrança em duplicidade")

    content = owner_client.get(invoice.get_absolute_url()).content.decode()

    for text in [
        "Fatura nº 42",
        merchant.name,
        "Ana Souza",
        "CPF",
        "123.456.789-09",
        "Clube do Vinho",
        "R$\xa0100,00",  # subtotal
        "−R$\xa010,00",  # discount
        "R$\xa04,50",  # tax
        "R$\xa094,50",  # total
        "Cartão recusado pelo emissor.",
        '<span class="badge text-bg-danger">Falhou</span>',
        '<span class="badge text-bg-success">Paga</span>',
        "Cobrança em duplicidade",
        "R$\xa020,00",
        reverse("billing:invoice_pdf", args=[invoice.pk]),
    ]:
        assert text in content, text


def test_the_invoice_page_formats_a_cnpj(owner_client, merchant):
    invoice = invoice_for(merchant, "Empresa", document="11222333000181")
    content = owner_client.get(invoice.get_absolute_url()).content.decode()
    assert "11.222.333/0001-81" in content and "CNPJ" in content


@pytest.mark.parametrize(
    "attempts, text",
    [(1, "1 tentativa até agora; a próxima será em"), (2, "2 tentativas até agora; a próxima será em")],
)
def test_the_retry_line_says_attempts_in_singular_or_plural(owner_client, merchant, attempts, text):
    invoice = InvoiceFactory(
        merchant=merchant, attempt_count=attempts, next_attempt_at=dt.datetime(2027, 1, 2, 12, tzinfo=UTC)
    )

    content = owner_client.get(invoice.get_absolute_url()).content.decode()

    assert text in content
    assert "tentativa(s)" not in content


def test_the_invoice_page_runs_a_fixed_number_of_queries(
    owner_client, merchant, django_assert_max_num_queries
):
    invoice = invoice_for(merchant, "Ana")
    for n in range(10):
        InvoiceLineFactory(invoice=invoice, description=f"Linha {n}")
    for attempt in range(1, 6):
        payment = PaymentFactory(
            merchant=merchant, invoice=invoice, attempt=attempt, status=PaymentStatus.FAILED, settled_at=None
        )
        RefundFactory(merchant=merchant, payment=payment)

    with django_assert_max_num_queries(12):
        response = owner_client.get(invoice.get_absolute_url())

    assert response.status_code == 200


def test_another_merchants_invoice_is_404(owner_client, other_merchant):
    invoice = invoice_for(other_merchant, "De Fora")
    for name in ["billing:invoice_detail", "billing:invoice_pdf", "billing:invoice_record_payment"]:
        assert owner_client.get(reverse(name, args=[invoice.pk])).status_code == 404


def test_record_payment_button_only_for_managers_and_open_invoices(member_client, manager, viewer, merchant):
    open_invoice = invoice_for(merchant, "Aberta")
    paid_invoice = invoice_for(merchant, "Paga", status=InvoiceStatus.PAID)
    button = reverse("billing:invoice_record_payment", args=[open_invoice.pk])

    assert button in member_client(manager).get(open_invoice.get_absolute_url()).content.decode()
    assert (
        "Registrar pagamento"
        not in member_client(manager).get(paid_invoice.get_absolute_url()).content.decode()
    )
    assert (
        "Registrar pagamento"
        not in member_client(viewer).get(open_invoice.get_absolute_url()).content.decode()
    )


def test_simulate_button_only_on_pending_sandbox_boleto_or_pix(member_client, manager, viewer, merchant):
    invoice = invoice_for(merchant, "Ana", payment_method=PaymentMethod.PIX)
    pending = PaymentFactory(
        merchant=merchant, invoice=invoice, method=PaymentMethod.PIX, status=PaymentStatus.PENDING, attempt=2
    )
    failed = PaymentFactory(
        merchant=merchant, invoice=invoice, method=PaymentMethod.PIX, status=PaymentStatus.FAILED, attempt=1
    )

    content = member_client(manager).get(invoice.get_absolute_url()).content.decode()

    assert reverse("billing:payment_settle", args=[pending.pk]) in content
    assert reverse("billing:payment_settle", args=[failed.pk]) not in content
    assert "Simular pagamento" not in member_client(viewer).get(invoice.get_absolute_url()).content.decode()


# --- "Registrar pagamento" -----------------------------------------------------------------------------
def test_manager_records_an_offline_payment(member_client, manager, merchant):
    invoice = invoice_for(merchant, "Ana", subtotal=9990)
    url = reverse("billing:invoice_record_payment", args=[invoice.pk])
    client = member_client(manager)

    page = client.get(url)
    assert page.status_code == 200
    assert "R$\xa099,90" in page.content.decode()

    response = client.post(url, {"reference": "PIX-manual-123"}, follow=True)

    invoice.refresh_from_db()
    payment = invoice.payments.get()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_paid == 9990
    assert payment.status == PaymentStatus.SUCCEEDED
    assert (payment.gateway, payment.method) == (Gateway.MANUAL, PaymentMethod.MANUAL)
    assert payment.gateway_reference == "PIX-manual-123"
    assert payment.recorded_by == manager
    assert response.redirect_chain[-1][0] == invoice.get_absolute_url()
    assert "Pagamento registrado." in response.content.decode()
    assert Event.objects.filter(merchant=merchant, type="invoice.paid").exists()


def test_an_uncollectible_invoice_can_be_recorded_too(owner_client, merchant):
    invoice = invoice_for(merchant, "Ana", status=InvoiceStatus.UNCOLLECTIBLE)
    owner_client.post(reverse("billing:invoice_record_payment", args=[invoice.pk]), {"reference": ""})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_recording_a_paid_invoice_is_refused_with_a_message(owner_client, merchant):
    invoice = invoice_for(merchant, "Ana", status=InvoiceStatus.PAID)
    url = reverse("billing:invoice_record_payment", args=[invoice.pk])

    response = owner_client.post(url, {"reference": ""}, follow=True)

    assert "Só é possível registrar pagamento de uma fatura em aberto." in response.content.decode()
    assert not invoice.payments.exists()
    # The form does not even open for it.
    assert owner_client.get(url)["Location"] == invoice.get_absolute_url()


def test_a_too_long_reference_is_refused_and_nothing_saved(owner_client, merchant):
    invoice = invoice_for(merchant, "Ana")

    response = owner_client.post(
        reverse("billing:invoice_record_payment", args=[invoice.pk]), {"reference": "x" * 101}
    )

    assert response.status_code == 200
    assert "no máximo 100 caracteres" in response.content.decode()
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN


@pytest.mark.parametrize("role", ["viewer", "support"])
def test_roles_without_manage_billing_cannot_record_payments(request, member_client, merchant, role):
    user = request.getfixturevalue(role)
    invoice = invoice_for(merchant, "Ana")
    url = reverse("billing:invoice_record_payment", args=[invoice.pk])
    client = member_client(user)

    assert client.get(url).status_code == 403
    assert client.post(url, {"reference": ""}).status_code == 403
    assert not Payment.objects.exists()


# --- the subscription page's "Transações" --------------------------------------------------------------
def test_the_subscription_page_lists_its_invoices_and_payments_newest_first(owner_client, merchant):
    subscription = SubscriptionFactory(merchant=merchant)
    old = InvoiceFactory(merchant=merchant, subscription=subscription, number=10, status=InvoiceStatus.PAID)
    new = InvoiceFactory(merchant=merchant, subscription=subscription, number=11)
    set_created_at(old, dt.datetime(2026, 1, 1, tzinfo=UTC))
    set_created_at(new, dt.datetime(2026, 2, 1, tzinfo=UTC))
    PaymentFactory(
        merchant=merchant,
        invoice=new,
        status=PaymentStatus.FAILED,
        failure_message="Saldo insuficiente.",
        settled_at=None,
    )
    InvoiceFactory(merchant=merchant, number=99)  # another subscription's

    content = owner_client.get(subscription.get_absolute_url()).content.decode()

    section = content[content.index('id="subscription-transactions"') :]
    assert section.index("nº 11") < section.index("nº 10")
    assert "nº 99" not in section
    assert "Saldo insuficiente." in section
    assert new.get_absolute_url() in section


def test_transactions_take_three_queries_whatever_the_number_of_invoices(merchant, django_assert_num_queries):
    """Invoices, their payments, and what is still owed (one aggregate)."""
    from billing.templatetags.billing_tags import subscription_transactions

    subscription = SubscriptionFactory(merchant=merchant)
    for _n in range(30):
        invoice = InvoiceFactory(merchant=merchant, subscription=subscription)
        PaymentFactory(merchant=merchant, invoice=invoice)

    with django_assert_num_queries(3):
        context = subscription_transactions(subscription)
        payments = [p for invoice in context["invoices"] for p in invoice.payments.all()]

    assert len(context["invoices"]) == 24 and context["has_more"]
    assert len(payments) == 24
    assert context["outstanding"]["count"] == 30  # the factory's invoices are open


def test_transactions_section_without_invoices(owner_client, merchant):
    subscription = SubscriptionFactory(merchant=merchant)
    content = owner_client.get(subscription.get_absolute_url()).content.decode()
    assert "Transações" in content and "Nenhuma fatura ainda." in content


def test_a_pending_pix_payment_shows_when_it_expires(owner_client, merchant):
    invoice = invoice_for(merchant, "Ana", payment_method=PaymentMethod.PIX)
    charge = SandboxChargeFactory(merchant=merchant)
    PaymentFactory(
        merchant=merchant,
        invoice=invoice,
        method=PaymentMethod.PIX,
        status=PaymentStatus.PENDING,
        gateway_reference=charge.reference,
        expires_at=dt.datetime(2026, 5, 10, 15, 0, tzinfo=UTC),
    )

    content = owner_client.get(invoice.get_absolute_url()).content.decode()

    assert "Vence em 10/05/2026" in content
    assert charge.reference in content


def test_a_double_submitted_manual_payment_is_recorded_once(member_client, manager, merchant):
    from django.contrib.messages import get_messages

    from core.views import FORM_ALREADY_SENT
    from tests.core.test_one_time_forms import form_token

    invoice = invoice_for(merchant, "Ana", subtotal=9990)
    url = reverse("billing:invoice_record_payment", args=[invoice.pk])
    client = member_client(manager)
    data = {"reference": "PIX-1", "form_token": form_token(client, url)}

    first = client.post(url, data)
    replay = client.post(url, data)

    assert invoice.payments.count() == 1
    assert replay.status_code == 302 and replay.url == first.url == invoice.get_absolute_url()
    assert FORM_ALREADY_SENT in [str(m) for m in get_messages(replay.wsgi_request)]


def test_an_invoice_without_lines_says_so_without_an_empty_table(owner_client, merchant):
    """Seven column headers over one "no items" row were wider than a phone (the header has no cards to fold
    into): an invoice without lines shows only the sentence."""
    invoice = invoice_for(merchant, "Ana Souza")
    page = owner_client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert 'id="invoice-no-lines"' in page and "Fatura sem itens." in page
    assert 'id="invoice-lines"' not in page

    InvoiceLineFactory(invoice=invoice, description="Plano Digital")
    page = owner_client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert 'id="invoice-lines"' in page and 'id="invoice-no-lines"' not in page
    assert 'data-label="Valor"' in page
