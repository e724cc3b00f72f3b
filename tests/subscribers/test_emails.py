"""Customer e-mails of the lifecycle: pt-BR whatever the active language, dates in the merchant's
timezone, text and HTML parts, sent to the customer."""

import datetime as dt
import zoneinfo

import pytest
from django.core import mail
from django.utils import translation

from subscribers import emails
from tests.factories import CustomerFactory, PlanFactory, SubscriptionFactory

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")


@pytest.fixture
def subscription(merchant):
    plan = PlanFactory(merchant=merchant, name="Clube do Livro", price=123456)
    customer = CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")
    return SubscriptionFactory(
        merchant=merchant,
        plan=plan,
        customer=customer,
        amount=123456,
        contract_date=dt.date(2027, 3, 15),
    )


def test_created_email_goes_to_the_customer_in_pt_br_with_amount_and_contract_date(subscription):
    assert emails.send_subscription_created(subscription.pk) is True

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.com"]
    assert message.subject == "Sua assinatura em The Pacific"
    assert "Olá, Ana Souza!" in message.body
    assert "Sua assinatura do plano Clube do Livro em The Pacific foi registrada." in message.body
    assert "Valor: R$\xa01.234,56 — Mensal" in message.body
    assert "Data de contratação: 15/03/2027" in message.body
    assert "Período de teste" not in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<li>Valor: R$\xa01.234,56 — Mensal</li>" in html


def test_created_email_is_in_pt_br_even_when_english_is_active(subscription):
    with translation.override("en"):
        emails.send_subscription_created(subscription.pk)

    message = mail.outbox[0]
    assert message.subject == "Sua assinatura em The Pacific"
    assert "Sua assinatura do plano Clube do Livro" in message.body
    assert "R$\xa01.234,56" in message.body
    assert "15/03/2027" in message.body


def test_created_email_shows_the_trial_end(subscription):
    subscription.trial_ends_at = dt.datetime(2027, 3, 22, 14, tzinfo=SAO_PAULO)
    subscription.save()

    emails.send_subscription_created(subscription.pk)

    assert "Período de teste até: 22/03/2027" in mail.outbox[0].body


def test_created_email_shows_dates_in_the_merchants_timezone(subscription, merchant):
    merchant.timezone = "Asia/Tokyo"
    merchant.save()
    # 22/03 20:00 in São Paulo is already 23/03 in Tokyo, where this merchant and its customers are.
    subscription.trial_ends_at = dt.datetime(2027, 3, 22, 20, tzinfo=SAO_PAULO)
    subscription.save()

    emails.send_subscription_created(subscription.pk)

    assert "Período de teste até: 23/03/2027" in mail.outbox[0].body


def test_access_email_tells_the_customer_access_is_back(subscription):
    assert emails.send_access(subscription.pk) is True

    message = mail.outbox[0]
    assert message.to == ["ana@example.com"]
    assert message.subject == "Seu acesso em The Pacific"
    assert "Seu acesso ao plano Clube do Livro em The Pacific foi liberado novamente." in message.body
    assert "foi liberado novamente" in message.alternatives[0][0]


def test_merchant_names_with_html_are_escaped_in_html_but_not_in_text(subscription, merchant):
    merchant.name = "Café & Cia <Livros>"
    merchant.save()

    emails.send_access(subscription.pk)

    message = mail.outbox[0]
    assert message.subject == "Seu acesso em Café & Cia <Livros>"
    assert "Café & Cia <Livros>" in message.body
    assert "Café &amp; Cia &lt;Livros&gt;" in message.alternatives[0][0]


@pytest.mark.parametrize("send", [emails.send_subscription_created, emails.send_access])
def test_no_email_is_sent_for_a_subscription_deleted_before_the_email_left(subscription, send):
    pk = subscription.pk
    subscription.delete()

    assert send(pk) is False
    assert mail.outbox == []
