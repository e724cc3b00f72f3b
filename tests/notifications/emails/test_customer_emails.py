"""Customer e-mails: pt-BR rendering with the merchant's dates and money, merchant versions, the restricted
template engine, and recording/sending after commit (notifications/emails/services/customer_emails.py)."""

import datetime as dt
import zoneinfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.template import TemplateSyntaxError
from django.utils import translation

from notifications.emails.choices import CustomerEmailKind, EmailSendingStatus
from notifications.emails.services.customer_emails import (
    default_source,
    deliver_stale_sendings,
    render_customer_email,
    send_customer_email,
)
from notifications.emails.services.email_templates import (
    customer_email_settings_update,
    customer_email_template_restore,
    customer_email_template_save,
)
from notifications.models import CustomerEmailSettings, CustomerEmailTemplate, EmailSending
from subscribers.choices import SubscriptionStatus
from tests.factories import CustomerFactory, PlanFactory, SubscriptionFactory

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
KINDS = list(CustomerEmailKind)


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("smtp down")


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
        current_period_start=dt.datetime(2027, 3, 15, 14, tzinfo=SP),
        # 10/04 22:30 in São Paulo: still the 10th there, already the 11th in UTC.
        current_period_end=dt.datetime(2027, 4, 10, 22, 30, tzinfo=SP),
        access_until=dt.datetime(2027, 4, 10, 22, 30, tzinfo=SP),
        trial_ends_at=dt.datetime(2027, 3, 22, 0, 0, tzinfo=SP),
        card_brand="Visa",
        card_last4="4242",
    )


def render(merchant, kind, subscription, **kwargs):
    return render_customer_email(merchant=merchant, kind=kind, subscription=subscription, **kwargs)


# --- rendering ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_every_kind_has_a_pt_br_subject_text_and_html_that_name_the_customer_and_the_store(
    merchant, subscription, kind
):
    subject, text, html = render(merchant, kind, subscription)

    assert subject and "\n" not in subject
    assert "Olá, Ana!" in text
    assert "Olá, Ana!" in html
    assert "The Pacific" in text and "The Pacific" in html
    assert html.startswith("<!DOCTYPE html>") and 'lang="pt-BR"' in html
    assert "{{" not in text + html + subject and "{%" not in text + html + subject


def test_subscription_created_shows_amount_and_dates_in_pt_br(merchant, subscription):
    subject, text, html = render(merchant, "subscription_created", subscription)

    assert subject == "Sua assinatura do plano Clube do Livro está confirmada"
    assert "- Valor: R$\xa01.234,56" in text
    assert "- Data de contratação: 15/03/2027" in text
    assert "- Período de teste até: 21/03/2027" in text  # a trial ending at midnight of the 22nd
    assert "- Primeira cobrança: 10/04/2027" in text  # after a trial: the first charge
    assert "- Forma de pagamento: Cartão de crédito (Visa final 4242)" in text
    assert "<strong>R$\xa01.234,56</strong>" in html
    assert "10/04/2027" in html


def test_dates_follow_the_merchants_timezone(merchant, subscription):
    merchant.timezone = "Asia/Tokyo"
    merchant.save()

    _subject, text, _html = render(merchant, "subscription_created", subscription)

    # 10/04 22:30 in São Paulo is already 11/04 in Tokyo, where this merchant and its customers are.
    assert "- Primeira cobrança: 11/04/2027" in text


def test_the_email_is_pt_br_even_when_english_is_active(merchant, subscription):
    with translation.override("en"):
        subject, text, _html = render(merchant, "subscription_created", subscription)

    assert subject == "Sua assinatura do plano Clube do Livro está confirmada"
    assert "R$\xa01.234,56" in text and "1,234.56" not in text
    assert "Cartão de crédito" in text


def test_canceled_says_until_when_the_customer_keeps_access(merchant, subscription):
    subject, text, html = render(merchant, "subscription_canceled", subscription)

    assert subject == "Sua assinatura do plano Clube do Livro foi cancelada"
    assert "Você continua com acesso até 10/04/2027." in text
    assert "<strong>10/04/2027</strong>" in html


def test_renewal_reminder_shows_the_next_charge_and_the_amount(merchant, subscription):
    subject, text, _html = render(
        merchant, "renewal_reminder", subscription, extra={"lembrete": {"dias": "3"}}
    )

    assert subject == "Sua assinatura do plano Clube do Livro renova em 10/04/2027"
    assert "renova em 10/04/2027 (daqui a 3 dias)" in text
    assert "- Valor: R$\xa01.234,56 (Mensal)" in text


def test_names_with_html_are_escaped_in_html_but_not_in_text_or_subject(merchant, subscription):
    merchant.name = "Café & Cia <Livros>"
    merchant.save()

    _subject, text, html = render(merchant, "access_resent", subscription)

    assert "Café & Cia <Livros>" in text
    assert "Café &amp; Cia &lt;Livros&gt;" in html
    assert "<Livros>" not in html


def test_the_access_link_and_reply_to_of_the_settings_appear(merchant, subscription):
    customer_email_settings_update(
        merchant=merchant,
        access_url="https://clube.example.com/entrar",
        reply_to="ajuda@example.com",
    )

    _subject, text, html = render(merchant, "access_resent", subscription)

    assert "Acesse aqui: https://clube.example.com/entrar" in text
    assert 'href="https://clube.example.com/entrar"' in html
    assert "ajuda@example.com" in html


def test_the_sample_fills_every_group_for_the_preview(merchant):
    subject, text, _html = render_customer_email(merchant=merchant, kind="payment_instructions", sample=True)

    assert subject.startswith("Boleto de R$\xa049,90 para pagamento até ")
    assert "Linha digitável do boleto:" in text


# --- merchant versions and the restricted engine ---------------------------------------------------------
def test_the_merchants_version_is_used_part_by_part(merchant, owner, subscription):
    customer_email_template_save(
        merchant=merchant,
        actor=owner,
        kind="subscription_created",
        subject="Bem-vinda ao {{ assinatura.plano }}, {{ cliente.primeiro_nome }}!",
        body_text=default_source("subscription_created", "body_text"),
        body_html="<p>Oi {{ cliente.nome }}, são {{ assinatura.valor }}.</p>",
    )

    subject, text, html = render(merchant, "subscription_created", subscription)

    assert subject == "Bem-vinda ao Clube do Livro, Ana!"
    assert "- Valor: R$\xa01.234,56" in text  # the text stayed the default
    assert "<p>Oi Ana Souza, são R$\xa01.234,56.</p>" in html
    row = CustomerEmailTemplate.objects.get()
    assert row.body_text == ""  # equal to the default: stored blank, so it keeps following it
    assert row.updated_by == owner


def test_restoring_the_default_forgets_the_merchants_text(merchant, owner, subscription):
    customer_email_template_save(
        merchant=merchant,
        actor=owner,
        kind="access_resent",
        subject="Oi",
        body_text="Oi",
        body_html="<p>Oi</p>",
    )

    customer_email_template_restore(merchant=merchant, actor=owner, kind="access_resent")

    assert not CustomerEmailTemplate.objects.exists()
    assert (
        render(merchant, "access_resent", subscription)[0]
        == "Seu acesso ao plano Clube do Livro foi liberado"
    )


def test_restoring_a_disabled_kind_keeps_it_disabled(merchant, owner):
    customer_email_template_save(
        merchant=merchant,
        actor=owner,
        kind="renewal_reminder",
        subject="Oi",
        body_text="Oi",
        body_html="<p>Oi</p>",
        is_enabled=False,
    )

    customer_email_template_restore(merchant=merchant, actor=owner, kind="renewal_reminder")

    row = CustomerEmailTemplate.objects.get()
    assert (row.is_enabled, row.is_customized) == (False, False)


@pytest.mark.parametrize(
    ("body_html", "message"),
    [
        ("<p>{% if cliente.nome %}sem fim</p>", "Erro de sintaxe no modelo"),
        ("<p>{{ cliente.nome|filtro_inexistente }}</p>", "O filtro |filtro_inexistente não é permitido"),
        ("{% load static %}", "A tag {% load %} não é permitida"),
        ('{% include "base.html" %}', "A tag {% include %} não é permitida"),
        ("{% debug %}", "A tag {% debug %} não é permitida"),
        ('{% url "admin:index" %}', "A tag {% url %} não é permitida"),
        ("{{ cliente.nome.__class__ }}", "Erro de sintaxe no modelo"),
        (
            "{% for a in loja.nome %}{% for b in loja.nome %}{% for c in loja.nome %}{% endfor %}"
            "{% endfor %}{% endfor %}",
            "A tag {% for %} não é permitida",
        ),
        ("x" * 50_001, "O modelo passou de 50.000 caracteres."),
    ],
)
def test_a_template_that_does_not_compile_or_reaches_outside_is_refused_in_pt_br(
    merchant, owner, body_html, message
):
    with pytest.raises(ValidationError) as caught:
        customer_email_template_save(
            merchant=merchant,
            actor=owner,
            kind="subscription_created",
            subject="Oi",
            body_text="Oi",
            body_html=body_html,
        )

    assert message in caught.value.message_dict["body_html"][0]
    assert not CustomerEmailTemplate.objects.exists()


def test_a_template_cannot_reach_models_settings_or_the_orm(merchant, subscription, settings):
    settings.SECRET_KEY = "o-segredo-do-servidor"
    overrides = {
        "subject": "x",
        "body_text": (
            "[{{ cliente.merchant }}][{{ cliente.merchant.name }}][{{ assinatura.customer.email }}]"
            "[{{ settings.SECRET_KEY }}][{{ request }}][{{ assinatura.plano.merchant }}][{{ loja.pk }}]"
            "[{{ assinatura.objects }}][{{ user }}]"
        ),
        "body_html": "<p>{{ cliente.nome }}</p>",
    }

    _subject, text, _html = render(merchant, "subscription_created", subscription, overrides=overrides)

    assert text.strip() == "[][][][][][][][][]"


def test_a_broken_saved_template_fails_that_email_only(
    merchant, subscription, django_capture_on_commit_callbacks
):
    CustomerEmailTemplate.objects.create(merchant=merchant, kind="access_resent", body_text="{% if %}")

    with django_capture_on_commit_callbacks(execute=True):
        sending = send_customer_email(kind="access_resent", subscription=subscription)

    assert sending.status == EmailSendingStatus.FAILED
    assert "TemplateSyntaxError" in sending.error
    assert mail.outbox == []


def test_the_reminder_days_are_validated_between_1_and_30(merchant):
    for days in (0, 31):
        with pytest.raises(ValidationError) as caught:
            customer_email_settings_update(merchant=merchant, renewal_reminder_days=days)
        assert "renewal_reminder_days" in caught.value.message_dict
    assert not CustomerEmailSettings.objects.exists()

    customer_email_settings_update(merchant=merchant, renewal_reminder_days=30)

    assert CustomerEmailSettings.for_merchant(merchant).renewal_reminder_days == 30


def test_check_template_refuses_an_unclosed_tag_with_a_pt_br_message():
    from notifications.emails.services.email_context import check_template

    with pytest.raises(TemplateSyntaxError, match="Erro de sintaxe no modelo"):
        check_template("{% if x %}sem fim")


# --- recording and sending -------------------------------------------------------------------------------
def test_the_email_is_recorded_in_the_transaction_and_sent_after_commit(
    merchant, subscription, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sending = send_customer_email(kind="subscription_created", subscription=subscription)
    assert mail.outbox == []
    assert sending.status == EmailSendingStatus.PENDING

    for callback in callbacks:
        callback()

    sending.refresh_from_db()
    assert (sending.status, sending.recipient, sending.subscription) == (
        EmailSendingStatus.SENT,
        "ana@example.com",
        subscription,
    )
    assert sending.sent_at is not None
    (message,) = mail.outbox
    assert message.to == ["ana@example.com"]
    assert message.subject == sending.subject == "Sua assinatura do plano Clube do Livro está confirmada"
    assert message.body == sending.body_text
    assert message.alternatives[0] == (sending.body_html, "text/html")


def test_nothing_is_sent_when_the_callers_transaction_rolls_back(merchant, subscription):
    with pytest.raises(RuntimeError), transaction.atomic():
        send_customer_email(kind="subscription_created", subscription=subscription)
        raise RuntimeError

    assert mail.outbox == []
    assert not EmailSending.objects.exists()


def test_the_same_dedupe_key_emails_once(merchant, subscription, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = send_customer_email(
            kind="renewal_reminder", subscription=subscription, dedupe_key="renewal:x"
        )
        second = send_customer_email(
            kind="renewal_reminder", subscription=subscription, dedupe_key="renewal:x"
        )

    assert first is not None and second is None
    assert len(mail.outbox) == 1
    assert EmailSending.objects.count() == 1


def test_the_reply_to_header_is_the_merchants(merchant, subscription, django_capture_on_commit_callbacks):
    customer_email_settings_update(merchant=merchant, reply_to="ajuda@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        send_customer_email(kind="access_resent", subscription=subscription)

    assert mail.outbox[0].reply_to == ["ajuda@example.com"]


def test_a_disabled_kind_is_recorded_as_skipped_and_not_sent(
    merchant, owner, subscription, django_capture_on_commit_callbacks
):
    CustomerEmailTemplate.objects.create(merchant=merchant, kind="renewal_reminder", is_enabled=False)

    with django_capture_on_commit_callbacks(execute=True):
        sending = send_customer_email(kind="renewal_reminder", subscription=subscription)

    assert sending.status == EmailSendingStatus.SKIPPED
    assert mail.outbox == []


def test_a_mail_server_failure_is_recorded_and_never_raised(
    merchant, subscription, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    with django_capture_on_commit_callbacks(execute=True):
        sending = send_customer_email(kind="access_resent", subscription=subscription)

    sending.refresh_from_db()
    assert sending.status == EmailSendingStatus.FAILED
    assert sending.error == "ConnectionRefusedError: smtp down"


def test_a_sending_left_queued_by_a_dead_worker_is_sent_by_the_sweep(merchant, subscription, time_machine):
    time_machine.move_to(dt.datetime(2027, 3, 15, 14, tzinfo=SP), tick=False)
    sending = send_customer_email(kind="access_resent", subscription=subscription)  # no commit callback ran
    assert deliver_stale_sendings() == 0  # too recent: its worker may still be sending it

    time_machine.move_to(dt.datetime(2027, 3, 15, 14, 11, tzinfo=SP), tick=False)
    assert deliver_stale_sendings() == 1
    assert deliver_stale_sendings() == 0

    sending.refresh_from_db()
    assert sending.status == EmailSendingStatus.SENT
    assert len(mail.outbox) == 1


def test_an_ended_subscription_still_gets_its_email(
    merchant, subscription, django_capture_on_commit_callbacks
):
    subscription.status = SubscriptionStatus.CANCELED
    subscription.save()

    with django_capture_on_commit_callbacks(execute=True):
        send_customer_email(kind="subscription_canceled", subscription=subscription)

    assert len(mail.outbox) == 1


def test_the_confirmation_and_the_trial_email_describe_the_trial_dates_the_same_way(merchant):
    plan = PlanFactory(merchant=merchant, name="Impressa", price=4990)
    trialing = SubscriptionFactory(
        merchant=merchant,
        plan=plan,
        customer=CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com"),
        status="trialing",
        contract_date=dt.date(2027, 4, 1),
        billing_cycle_anchor=dt.datetime(2027, 4, 8, 8, 0, tzinfo=SP),
        trial_ends_at=dt.datetime(2027, 4, 8, 8, 0, tzinfo=SP),
        current_period_start=dt.datetime(2027, 4, 1, 8, 0, tzinfo=SP),
        current_period_end=dt.datetime(2027, 4, 8, 8, 0, tzinfo=SP),
    )

    subject, confirmation, _html = render(merchant, "subscription_created", trialing)
    trial_subject, trial_text, _html = render(merchant, "trial_ending", trialing)

    assert subject == "Sua assinatura do plano Impressa está confirmada"
    assert "- Período de teste até: 08/04/2027" in confirmation
    assert "- Primeira cobrança: 08/04/2027" in confirmation
    assert trial_subject == "Seu período de teste do plano Impressa vai até 08/04/2027"
    assert "Seu período de teste do plano Impressa em The Pacific vai até 08/04/2027." in trial_text
    assert "a primeira cobrança, de R$\xa049,90 (Mensal), será feita em 08/04/2027" in trial_text
