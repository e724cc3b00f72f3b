"""Merchant e-mail templates are bounded: who may render unsaved text, which tags and filters exist, how long
a render may take and how much it may produce — in the preview and when the worker sends."""

import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.template import TemplateSyntaxError
from django.urls import reverse

from notifications.emails.choices import EmailSendingStatus
from notifications.emails.services import email_context
from notifications.emails.services.customer_emails import send_customer_email
from notifications.emails.services.email_context import check_template, render_string
from notifications.emails.services.email_templates import customer_email_template_save
from notifications.models import CustomerEmailTemplate
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

PREVIEW_URL = reverse("notifications:customer_email_preview", args=["subscription_created"])
LONG = "x" * 8000
NESTED_LOOPS = f'{{% for a in "{LONG}" %}}{{% for b in "{LONG}" %}}.{{% endfor %}}{{% endfor %}}'
HUGE_CENTER = "{{ cliente.nome|center:'50000000' }}"


def preview_data(**changes):
    data = {"subject": "Oi", "body_text": "Oi {{ cliente.nome }}", "body_html": "<p>Oi</p>"}
    data.update(changes)
    return data


# --- who may render unsaved text ----------------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "support"])
def test_the_live_preview_of_unsaved_text_needs_the_role_that_edits_templates(member_client, request, role):
    response = member_client(request.getfixturevalue(role)).post(PREVIEW_URL, preview_data())

    assert response.status_code == 403


def test_a_manager_still_gets_the_live_preview(member_client, manager):
    response = member_client(manager).post(PREVIEW_URL, preview_data(body_text="Oi {{ cliente.nome }}!"))

    assert response.status_code == 200
    assert "Oi Ana Souza!" in response.content.decode()


def test_a_viewer_still_reads_the_saved_email_and_its_preview(member_client, viewer):
    response = member_client(viewer).get(reverse("notifications:customer_email_edit", args=["access_resent"]))

    assert response.status_code == 200
    assert "hx-post" not in response.content.decode()  # a viewer's page does not post the preview


# --- what a template may contain ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "message"),
    [
        (NESTED_LOOPS, "A tag {% for %} não é permitida"),
        ("{% for c in cliente.nome %}{{ c }}{% endfor %}", "A tag {% for %} não é permitida"),
        (HUGE_CENTER, "O filtro |center não é permitido"),
        ("{{ cliente.nome|ljust:'9000000' }}", "O filtro |ljust não é permitido"),
        ("{{ cliente.nome|add:cliente.nome }}", "O filtro |add não é permitido"),
        ('{% with a=cliente.nome|join:"xxxxxxxx" %}{{ a }}{% endwith %}', "O filtro |join não é permitido"),
        ('{% if cliente.nome|stringformat:"50000000s" %}x{% endif %}', "O filtro |stringformat não é"),
        ("{% cycle 'a' 'b' %}", "A tag {% cycle %} não é permitida"),
    ],
)
def test_loops_and_unbounded_filters_are_refused_when_saving_in_pt_br(merchant, owner, source, message):
    with pytest.raises(ValidationError) as caught:
        customer_email_template_save(
            merchant=merchant,
            actor=owner,
            kind="subscription_created",
            subject="Oi",
            body_text=source,
            body_html="<p>Oi</p>",
        )

    assert message in caught.value.message_dict["body_text"][0]
    assert not CustomerEmailTemplate.objects.exists()


def test_the_allowed_filters_and_tags_still_work():
    output = render_string(
        "{% with n=cliente.nome|upper %}{{ n }}{% endwith %}|{{ cliente.nome|truncatewords:1 }}|"
        '{% if cliente.email %}{{ cliente.email|default:"-"|lower }}{% else %}sem{% endif %}|'
        '{{ lembrete.dias|pluralize:"dia,dias" }}|{{ x|default:"a|b" }}',
        {"cliente": {"nome": "Ana Souza", "email": "ANA@EXAMPLE.COM"}, "lembrete": {"dias": "3"}},
        html=False,
    )

    assert output == "ANA SOUZA|Ana …|ana@example.com|dias|a|b"


def test_a_quoted_pipe_is_not_taken_for_a_filter():
    check_template('{{ cliente.nome|default:"a|center" }}')


def test_the_engine_itself_has_only_the_whitelist_even_past_the_check():
    """Defence in depth: the restricted engine does not know Django's other tags and filters at all."""
    with pytest.raises(TemplateSyntaxError):
        email_context._TEXT_ENGINE.from_string(HUGE_CENTER)
    with pytest.raises(TemplateSyntaxError):
        email_context._TEXT_ENGINE.from_string("{% for a in b %}{% endfor %}")


# --- the live preview answers fast and small ---------------------------------------------------------
@pytest.mark.parametrize("source", [NESTED_LOOPS, HUGE_CENTER])
def test_the_preview_refuses_a_hostile_template_quickly_with_a_small_answer(owner_client, source):
    started = time.monotonic()
    response = owner_client.post(PREVIEW_URL, preview_data(body_text=source), headers={"HX-Request": "true"})
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert "não é permitid" in response.content.decode()
    assert len(response.content) < 100_000
    assert elapsed < 5


# --- render caps (also for templates saved before a rule existed) -----------------------------------
def test_the_output_is_capped(settings, monkeypatch):
    monkeypatch.setattr(email_context, "MAX_OUTPUT_CHARS", 1000)

    with pytest.raises(TemplateSyntaxError, match="O e-mail gerado passou de 1.000 caracteres"):
        render_string("{{ cliente.nome }}" * 30, {"cliente": {"nome": "y" * 100}}, html=False)


def test_the_render_time_is_capped(monkeypatch):
    monkeypatch.setattr(email_context, "MAX_RENDER_SECONDS", 0.0)

    with pytest.raises(TemplateSyntaxError, match="demorou demais"):
        render_string("{{ cliente.nome }}", {"cliente": {"nome": "Ana"}}, html=False)


@pytest.mark.parametrize("source", [NESTED_LOOPS, HUGE_CENTER])
def test_the_worker_refuses_a_hostile_template_saved_before_the_rules(
    merchant, source, django_capture_on_commit_callbacks
):
    """A row written before these rules (or straight into the database) fails that e-mail, fast and small."""
    subscription = SubscriptionFactory(merchant=merchant)
    CustomerEmailTemplate.objects.create(merchant=merchant, kind="access_resent", body_text=source)

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        sending = send_customer_email(kind="access_resent", subscription=subscription)

    assert time.monotonic() - started < 5
    assert sending.status == EmailSendingStatus.FAILED
    assert "não é permitid" in sending.error
    assert len(sending.body_text) < 100_000
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{% if a %}" * 1000 + "x" + "{% endif %}" * 1000, "Use no máximo 10 blocos"),
        ("{% with a=b %}" * 11 + "x" + "{% endwith %}" * 11, "Use no máximo 10 blocos"),
        ("{{ x|force_escape|force_escape|force_escape|force_escape|force_escape }}", "no máximo 4 filtros"),
    ],
)
def test_deep_nesting_and_long_filter_chains_are_refused(owner_client, source, message):
    """A thousand nested {% if %} overflowed Python's stack while compiling (a 500 in the preview)."""
    check = pytest.raises(TemplateSyntaxError, match=message)
    with check:
        check_template(source)

    response = owner_client.post(PREVIEW_URL, preview_data(body_text=source), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert message in response.content.decode()


def test_ten_levels_and_four_filters_are_fine():
    source = "{% if a %}" * 10 + "{{ a|default:'-'|lower|upper|capfirst }}" + "{% endif %}" * 10

    assert render_string(source, {"a": "x"}, html=False) == "X"
