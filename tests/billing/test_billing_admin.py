"""Billing in Django admin: every model is there, filterable by merchant, read-only where money moves."""

import pytest
from django.contrib import admin
from django.urls import reverse

from billing.choices import DunningFinalAction, InvoiceStatus, PaymentStatus
from billing.models import (
    BillingRun,
    BillingSettings,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    Refund,
    SandboxCharge,
)
from tests.factories import (
    FACTORY_FOR_MODEL,
    InvoiceFactory,
    InvoiceLineFactory,
    MerchantFactory,
    PaymentFactory,
    RefundFactory,
)

pytestmark = pytest.mark.django_db

READ_ONLY = [Invoice, InvoiceLine, InvoiceSequence, Payment, Refund, BillingRun, SandboxCharge]
ALL = [BillingSettings, *READ_ONLY]


def url(model, view, *args):
    return reverse(f"admin:billing_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", ALL, ids=lambda m: m.__name__)
def test_every_billing_model_is_registered_with_a_merchant_filter(model):
    model_admin = admin.site._registry[model]
    expected = "invoice__merchant" if model is InvoiceLine else "merchant"
    assert expected in model_admin.list_filter


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_money_models_cannot_be_added_changed_or_deleted_by_hand(model, admin_client):
    obj = FACTORY_FOR_MODEL[model](merchant=MerchantFactory())

    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.get(url(model, "delete", obj.pk)).status_code == 403
    page = admin_client.get(url(model, "change", obj.pk))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_posting_a_status_change_to_a_payment_is_refused(admin_client):
    payment = PaymentFactory(merchant=MerchantFactory(), status=PaymentStatus.FAILED)

    response = admin_client.post(url(Payment, "change", payment.pk), {"status": "succeeded"})

    assert response.status_code == 403
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED


def test_the_invoice_page_shows_its_lines_payments_and_refunds_inline(admin_client):
    merchant = MerchantFactory()
    invoice = InvoiceFactory(merchant=merchant, number=777)
    InvoiceLineFactory(invoice=invoice, description="Linha do plano")
    payment = PaymentFactory(merchant=merchant, invoice=invoice, gateway_reference="sbx_ch_inline")
    RefundFactory(merchant=merchant, payment=payment, reason="Motivo inline")

    invoice_page = admin_client.get(url(Invoice, "change", invoice.pk)).content.decode()
    payment_page = admin_client.get(url(Payment, "change", payment.pk)).content.decode()

    assert "Linha do plano" in invoice_page and "sbx_ch_inline" in invoice_page
    assert "Motivo inline" in payment_page


def test_changelists_filter_by_merchant(admin_client):
    ours, theirs = MerchantFactory(name="Nossa"), MerchantFactory(name="Deles")
    InvoiceFactory(merchant=ours, number=111)
    InvoiceFactory(merchant=theirs, number=222)

    response = admin_client.get(url(Invoice, "changelist"), {"merchant__id__exact": ours.pk})

    assert [invoice.number for invoice in response.context["cl"].result_list] == [111]


def test_staff_record_a_manual_payment_from_the_invoice_list(admin_client, admin_user):
    merchant = MerchantFactory()
    open_invoice = InvoiceFactory(merchant=merchant)
    paid_invoice = InvoiceFactory(merchant=merchant, status=InvoiceStatus.PAID)

    response = admin_client.post(
        url(Invoice, "changelist"),
        {"action": "record_manual_payment", "_selected_action": [open_invoice.pk, paid_invoice.pk]},
        follow=True,
    )

    open_invoice.refresh_from_db()
    assert open_invoice.status == InvoiceStatus.PAID
    assert open_invoice.payments.get().recorded_by == admin_user
    assert not paid_invoice.payments.exists()
    content = response.content.decode()
    assert "1 pagamento(s) registrado(s)." in content
    assert f"nº {paid_invoice.number}" in content


def test_staff_edit_billing_settings_through_the_service(admin_client):
    merchant = MerchantFactory()
    settings = FACTORY_FOR_MODEL[BillingSettings](merchant=merchant)
    data = {
        "retries": "4",
        "retry_interval_hours": "6",
        "final_action": DunningFinalAction.CANCEL,
        "boleto_pix_expiry_days": "7",
        "backdate_max_periods": "1",
        "backdate_max_days": "31",
        "pause_coupons": "keep_counting",
        "pause_access": "until_period_end",
    }

    response = admin_client.post(url(BillingSettings, "change", settings.pk), data)

    assert response.status_code == 302
    settings.refresh_from_db()
    assert (settings.retries, settings.retry_interval_hours, settings.boleto_pix_expiry_days) == (4, 6, 7)
    assert settings.final_action == DunningFinalAction.CANCEL and settings.merchant == merchant


def test_staff_add_billing_settings_for_a_merchant(admin_client):
    merchant = MerchantFactory()
    data = {
        "merchant": merchant.pk,
        "retries": "1",
        "retry_interval_hours": "24",
        "final_action": DunningFinalAction.EXPIRE,
        "boleto_pix_expiry_days": "3",
        "backdate_max_periods": "1",
        "backdate_max_days": "31",
        "pause_coupons": "keep_counting",
        "pause_access": "until_period_end",
    }

    response = admin_client.post(url(BillingSettings, "add"), data)

    assert response.status_code == 302
    assert BillingSettings.objects.get(merchant=merchant).retries == 1


def test_billing_settings_refuse_out_of_range_values(admin_client):
    settings = FACTORY_FOR_MODEL[BillingSettings](merchant=MerchantFactory())
    data = {
        "retries": "99",
        "retry_interval_hours": "24",
        "final_action": "expire",
        "boleto_pix_expiry_days": "3",
        "backdate_max_periods": "1",
        "backdate_max_days": "31",
        "pause_coupons": "keep_counting",
        "pause_access": "until_period_end",
    }

    response = admin_client.post(url(BillingSettings, "change", settings.pk), data)

    assert response.status_code == 200
    settings.refresh_from_db()
    assert settings.retries == 2
