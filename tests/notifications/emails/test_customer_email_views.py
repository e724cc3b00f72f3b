"""Notificações > E-mails: the list, the editor with its live preview, restore, test, settings, the log."""

import html

import pytest
from django.core import mail
from django.urls import reverse

from notifications.emails.choices import CustomerEmailKind, EmailSendingStatus
from notifications.emails.services.customer_emails import default_source
from notifications.models import CustomerEmailSettings, CustomerEmailTemplate
from tests.factories import CustomerEmailTemplateFactory, EmailSendingFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("notifications:customer_email_list")
LOG_URL = reverse("notifications:email_sending_list")
SETTINGS_URL = reverse("notifications:customer_email_settings")


def edit_url(kind="subscription_created"):
    return reverse("notifications:customer_email_edit", kwargs={"kind": kind})


def form_data(**changes):
    data = {
        "subject": "Bem-vinda, {{ cliente.primeiro_nome }}!",
        "body_text": "Olá {{ cliente.nome }}, seu plano custa {{ assinatura.valor }}.",
        "body_html": "<p>Olá {{ cliente.nome }}, seu plano custa {{ assinatura.valor }}.</p>",
        "is_enabled": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- the list ---------------------------------------------------------------------------------------------
def test_the_list_shows_every_kind_with_its_state_and_last_sending(member_client, viewer, merchant):
    CustomerEmailTemplateFactory(merchant=merchant, kind="subscription_created")
    CustomerEmailTemplate.objects.create(merchant=merchant, kind="renewal_reminder", is_enabled=False)
    EmailSendingFactory(merchant=merchant, kind="access_resent")

    content = member_client(viewer).get(LIST_URL).content.decode()

    for kind in CustomerEmailKind:
        assert str(kind.label) in content
    assert content.count(">Editado<") == 1
    assert content.count(">Desativado<") == 1
    assert content.count(">Padrão<") == len(CustomerEmailKind) - 2
    assert 'href="/notificacoes/emails/configuracoes/"' not in content  # a viewer cannot change them


def test_the_navigation_leads_to_the_emails(owner_client):
    assert LIST_URL in owner_client.get(reverse("notifications:endpoint_list")).content.decode()


# --- the editor -------------------------------------------------------------------------------------------
def test_the_editor_shows_the_default_the_variables_and_a_pt_br_preview(owner_client, merchant):
    response = owner_client.get(edit_url())
    content = response.content.decode()

    assert response.status_code == 200
    assert html.escape(default_source("subscription_created", "body_text")) in content
    assert "{{ cliente.nome }}" in content and "{{ assinatura.proxima_cobranca }}" in content
    assert "Sua assinatura do plano Clube Mensal está confirmada" in content  # the preview's subject
    assert "R$\xa049,90" in content
    assert "Restaurar padrão" not in content  # nothing to restore yet


def test_a_manager_saves_the_merchants_version(member_client, manager, merchant):
    response = member_client(manager).post(edit_url(), form_data())

    assert response.status_code == 302
    row = CustomerEmailTemplate.objects.get(merchant=merchant)
    assert (row.kind, row.subject, row.updated_by, row.is_enabled) == (
        "subscription_created",
        "Bem-vinda, {{ cliente.primeiro_nome }}!",
        manager,
        True,
    )
    content = member_client(manager).get(edit_url()).content.decode()
    assert "Bem-vinda, Ana!" in content and "Restaurar padrão" in content


def test_a_syntax_error_comes_back_on_the_field_in_pt_br(owner_client):
    response = owner_client.post(edit_url(), form_data(body_html="<p>{% if cliente.nome %}</p>"))

    assert response.status_code == 200
    assert "Erro de sintaxe no modelo" in response.content.decode()
    assert not CustomerEmailTemplate.objects.exists()


def test_a_refused_tag_comes_back_in_pt_br(owner_client):
    response = owner_client.post(edit_url(), form_data(body_text='{% include "base.html" %}'))

    assert "não é permitida nos e-mails" in response.content.decode()
    assert not CustomerEmailTemplate.objects.exists()


def test_turning_a_kind_off(owner_client, merchant):
    owner_client.post(edit_url("renewal_reminder"), form_data(is_enabled=None))

    assert CustomerEmailTemplate.objects.get(kind="renewal_reminder").is_enabled is False


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_support_and_viewers_see_the_editor_but_cannot_save(request, member_client, role):
    client = member_client(request.getfixturevalue(role))

    assert client.get(edit_url()).status_code == 200
    assert client.post(edit_url(), form_data()).status_code == 403
    assert (
        client.post(
            reverse("notifications:customer_email_restore", args=["subscription_created"])
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("notifications:customer_email_send_test", args=["subscription_created"])
        ).status_code
        == 403
    )
    assert client.get(SETTINGS_URL).status_code == 200
    assert client.post(SETTINGS_URL, {"renewal_reminder_days": "5"}).status_code == 403
    assert not CustomerEmailTemplate.objects.exists()


def test_an_unknown_kind_is_404(owner_client):
    assert owner_client.get(edit_url("nao_existe")).status_code == 404


def test_the_live_preview_renders_the_unsaved_text_with_sample_data(owner_client):
    response = owner_client.post(
        reverse("notifications:customer_email_preview", args=["subscription_created"]),
        form_data(subject="Oi {{ cliente.primeiro_nome }} — {{ assinatura.valor }}"),
        headers={"HX-Request": "true"},
    )
    content = response.content.decode()

    assert response.status_code == 200
    assert "<html" not in content.lower()[:200]  # a partial
    assert "Oi Ana — R$\xa049,90" in content
    assert "Olá Ana Souza, seu plano custa R$\xa049,90." in content
    assert not CustomerEmailTemplate.objects.exists()


def test_the_preview_keeps_the_e_mails_html_inside_its_sandboxed_frame(owner_client):
    """The HTML goes into the iframe's srcdoc attribute escaped: a quote in it cannot end the attribute and
    a script in it cannot run in Recorrente's page (the template is written by someone on the team)."""
    hostile = '<p lang="pt">Olá</p>"><script>alert(document.cookie)</script>'
    response = owner_client.post(
        reverse("notifications:customer_email_preview", args=["subscription_created"]),
        form_data(body_html=hostile),
        headers={"HX-Request": "true"},
    )
    content = response.content.decode()

    assert "<script>alert" not in content
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in content
    assert '<p lang="pt">' not in content and "&lt;p lang=&quot;pt&quot;&gt;" in content


def test_the_live_preview_shows_a_syntax_error(owner_client):
    response = owner_client.post(
        reverse("notifications:customer_email_preview", args=["subscription_created"]),
        form_data(body_text="{% if x %}sem fim"),
        headers={"HX-Request": "true"},
    )

    assert "Erro de sintaxe no modelo" in response.content.decode()


def test_restore_default(owner_client, merchant):
    CustomerEmailTemplateFactory(merchant=merchant, kind="subscription_created")

    response = owner_client.post(
        reverse("notifications:customer_email_restore", args=["subscription_created"])
    )

    assert response.status_code == 302
    assert not CustomerEmailTemplate.objects.exists()


def test_send_test_goes_to_the_signed_in_user_with_sample_data(owner_client, owner):
    owner.email = "dona@example.com"
    owner.save()

    response = owner_client.post(reverse("notifications:customer_email_send_test", args=["payment_failed"]))

    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["dona@example.com"]
    assert message.subject == "[TESTE] Não conseguimos processar o pagamento da sua assinatura"
    assert "Ana" in message.body


# --- settings ---------------------------------------------------------------------------------------------
def test_settings_save_and_refuse_reminder_days_out_of_range(owner_client, merchant):
    response = owner_client.post(
        SETTINGS_URL, {"renewal_reminder_days": "31", "reply_to": "", "access_url": ""}
    )
    assert response.status_code == 200
    assert "30" in response.content.decode()
    assert not CustomerEmailSettings.objects.exists()

    response = owner_client.post(
        SETTINGS_URL,
        {
            "renewal_reminder_days": "5",
            "reply_to": "ajuda@example.com",
            "access_url": "https://clube.example.com",
        },
    )

    assert response.status_code == 302
    saved = CustomerEmailSettings.objects.get(merchant=merchant)
    assert (saved.renewal_reminder_days, saved.reply_to, saved.access_url) == (
        5,
        "ajuda@example.com",
        "https://clube.example.com",
    )


# --- the log ----------------------------------------------------------------------------------------------
def test_the_log_lists_the_merchants_sendings_and_filters_them(owner_client, merchant, other_merchant):
    EmailSendingFactory(merchant=merchant, kind="access_resent", recipient="bia@example.com")
    EmailSendingFactory(
        merchant=merchant,
        kind="payment_failed",
        recipient="caio@example.com",
        status=EmailSendingStatus.FAILED,
    )
    EmailSendingFactory(merchant=other_merchant, recipient="segredo@example.com")

    content = owner_client.get(LOG_URL).content.decode()
    assert "bia@example.com" in content and "caio@example.com" in content
    assert "segredo@example.com" not in content

    content = owner_client.get(LOG_URL, {"kind": "payment_failed"}).content.decode()
    assert "caio@example.com" in content and "bia@example.com" not in content

    content = owner_client.get(LOG_URL, {"status": "sent"}).content.decode()
    assert "bia@example.com" in content and "caio@example.com" not in content

    content = owner_client.get(LOG_URL, {"q": "bia@"}).content.decode()
    assert "bia@example.com" in content and "caio@example.com" not in content


def test_the_log_runs_a_bounded_number_of_queries(owner_client, merchant, django_assert_max_num_queries):
    subscription = SubscriptionFactory(merchant=merchant)
    for _ in range(30):
        EmailSendingFactory(merchant=merchant, subscription=subscription)

    with django_assert_max_num_queries(10):
        assert owner_client.get(LOG_URL).status_code == 200


def test_a_sending_shows_what_was_sent(member_client, viewer, merchant):
    sending = EmailSendingFactory(merchant=merchant, body_text="Olá, Ana! Seu acesso voltou.")

    content = member_client(viewer).get(sending.get_absolute_url()).content.decode()

    assert "Olá, Ana! Seu acesso voltou." in content
    assert sending.recipient in content


def test_a_sendings_html_stays_inside_its_frame(member_client, viewer, merchant):
    sending = EmailSendingFactory(merchant=merchant, body_html='<p class="x">Oi</p><script>alert(1)</script>')

    content = member_client(viewer).get(sending.get_absolute_url()).content.decode()

    assert "<script>alert(1)" not in content
    assert "&lt;p class=&quot;x&quot;&gt;Oi&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_the_subscription_page_lists_its_emails(owner_client, merchant):
    subscription = SubscriptionFactory(merchant=merchant)
    EmailSendingFactory(
        merchant=merchant, subscription=subscription, subject="Seu acesso ao Clube foi liberado"
    )
    EmailSendingFactory(merchant=merchant, subject="De outra assinatura")

    content = owner_client.get(subscription.get_absolute_url()).content.decode()

    assert "E-mails ao cliente" in content
    assert "Seu acesso ao Clube foi liberado" in content
    assert "De outra assinatura" not in content
