"""Status badges are drawn one way (core.badges): the colour of each choice is declared next to its
choices, tables use ChoiceFieldColumn and pages the {% badge %} tag, both from templates/core/badge.html."""

import django_tables2 as tables
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.template import Context, Template
from django.utils import translation

from billing.choices import InvoiceStatus, PaymentStatus
from core.badges import BADGE_CLASSES, register_badges, render_badge
from core.tables import ChoiceFieldColumn
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription


class Colour(models.TextChoices):
    RED = "red", "Vermelho"
    BLUE = "blue", "Azul"


def test_every_status_choice_set_has_a_colour_for_each_choice():
    for choices, classes in BADGE_CLASSES.items():
        assert set(classes) == set(choices.values), choices


def test_a_choice_set_missing_a_colour_is_refused():
    with pytest.raises(ImproperlyConfigured, match="blue"):
        register_badges(Colour, {Colour.RED: "text-bg-danger"})


def test_a_badge_shows_the_choices_colour_and_label_in_the_active_language():
    assert render_badge(InvoiceStatus, "paid") == '<span class="badge text-bg-success">Paga</span>'
    with translation.override("en"):
        assert (
            render_badge(InvoiceStatus, InvoiceStatus.OPEN)
            == '<span class="badge text-bg-warning">Open</span>'
        )


def test_a_badge_escapes_its_tooltip_and_carries_id_and_status_when_asked():
    html = render_badge(
        PaymentStatus, "failed", title='<b>"recusado"</b>', element_id="pay-1", data_status=True
    )

    assert html == (
        '<span class="badge text-bg-danger" id="pay-1" title="&lt;b&gt;&quot;recusado&quot;&lt;/b&gt;"'
        ' data-status="failed">Falhou</span>'
    )


def test_an_unknown_stored_value_is_shown_as_it_is_in_a_neutral_badge():
    assert render_badge(InvoiceStatus, "legacy") == '<span class="badge text-bg-light">legacy</span>'


class SubscriptionStatusTable(tables.Table):
    status = ChoiceFieldColumn(choices=SubscriptionStatus)

    class Meta:
        model = Subscription
        fields = ["status"]


def test_the_column_renders_the_stored_choice_not_django_tables2s_label_and_exports_the_label():
    table = SubscriptionStatusTable([Subscription(status=SubscriptionStatus.PAST_DUE)])

    row = table.rows[0]

    assert row.get_cell("status") == '<span class="badge text-bg-danger">Pagamento pendente</span>'
    assert list(table.as_values()) == [["Status"], ["Pagamento pendente"]]


def test_the_page_tag_draws_the_same_badge_as_the_column():
    page = Template('{% load recorrente %}{% badge status "subscribers.choices.SubscriptionStatus" %}')

    html = page.render(Context({"status": "trialing"}))

    assert html == render_badge(SubscriptionStatus, "trialing")
    assert html == '<span class="badge text-bg-primary">Em teste</span>'


def test_the_page_tag_refuses_a_choice_set_without_colours():
    page = Template('{% load recorrente %}{% badge "card" "subscribers.choices.PaymentMethod" %}')

    with pytest.raises(ImproperlyConfigured):
        page.render(Context({}))


def test_a_customer_e_mail_template_state_is_one_badge_from_its_choices():
    from notifications.emails.choices import TemplateState

    assert TemplateState.of(is_enabled=False, is_customized=True) == TemplateState.DISABLED
    assert TemplateState.of(is_enabled=True, is_customized=True) == TemplateState.CUSTOMIZED
    assert TemplateState.of(is_enabled=True, is_customized=False) == TemplateState.DEFAULT
    html = render_badge(TemplateState, TemplateState.CUSTOMIZED)
    assert "text-bg-primary" in html and "Editado" in html


def test_a_schedule_phase_state_is_one_badge_from_its_choices():
    from subscribers.choices import PhaseState

    assert "text-bg-secondary" in render_badge(PhaseState, PhaseState.PAST)
    assert "Atual" in render_badge(PhaseState, PhaseState.CURRENT)
