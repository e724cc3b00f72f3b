"""The phase editor's "Adicionar pausa": a pause block added between two phases (its end date and resume
mode), validated with the schedule's rules (errors next to its fields), shown on the Programação card, and
previewed without invoices while it lasts."""

import datetime as dt

import pytest
from django.urls import reverse

from subscribers.choices import PhaseKind, ResumeMode
from tests.subscribers.test_schedules import SP, phase_post, plans, scheduled  # noqa: F401

pytestmark = pytest.mark.django_db
# ruff: noqa: F811 — `plans` and `scheduled` are test_schedules' fixtures

PAUSE = {"kind": "pause", "end_date": "2027-04-01", "resume_mode": "new_period"}


def test_adicionar_pausa_adds_a_pause_card_to_the_editor(member_client, owner, plans, scheduled):
    client = member_client(owner)
    url = reverse("subscribers:subscription_schedule", args=[scheduled.pk])
    page = client.get(url).content.decode()
    assert 'id="add-pause"' in page and "Adicionar pausa" in page
    response = client.post(
        url, phase_post([{"plan": plans["impressa"].pk, "iterations": "1"}], add_pause="1")
    )
    forms = response.context["formset"].forms
    assert [form.is_pause for form in forms] == [False, True]
    page = response.content.decode()
    assert page.count('data-kind="pause"') == 1
    assert "Pausada até" in page and "Ao fim da pausa" in page
    assert not scheduled.schedules.exists()  # adding a card saves nothing


def test_the_editor_saves_a_pause_between_two_phases_and_the_card_shows_it(
    member_client, owner, plans, scheduled
):
    client = member_client(owner)
    url = reverse("subscribers:subscription_schedule", args=[scheduled.pk])
    phases = [{"plan": plans["impressa"].pk, "iterations": "1"}, PAUSE, {"plan": plans["digital"].pk}]

    preview = client.get(
        reverse("billing:subscription_schedule_preview", args=[scheduled.pk]), phase_post(phases)
    )
    invoices = preview.context["upcoming"].invoices
    # Impressa on 01/02, nothing from 01/03 (paused) until 01/04, then Digital every month from the resume.
    assert [(i.at.astimezone(SP).date(), i.total) for i in invoices[:3]] == [
        (dt.date(2027, 2, 1), 10000),
        (dt.date(2027, 4, 1), 4000),
        (dt.date(2027, 5, 1), 4000),
    ]
    assert not scheduled.schedules.exists()

    response = client.post(url, phase_post(phases))
    assert response.status_code == 302, response.context and response.context["formset"].errors
    pause = scheduled.schedules.get().phases.get(position=1)
    assert (pause.kind, pause.resume_mode) == (PhaseKind.PAUSE, ResumeMode.NEW_PERIOD)
    assert (pause.start_at.astimezone(SP).date(), pause.end_at.astimezone(SP).date()) == (
        dt.date(2027, 3, 1),
        dt.date(2027, 4, 1),
    )
    page = client.get(scheduled.get_absolute_url()).content.decode()
    assert "Pausa: sem faturas" in page and "Retoma com um novo período" in page

    # The editor opens again with the pause as a pause card.
    forms = client.get(url).context["formset"].forms
    assert [form.is_pause for form in forms] == [False, True, False]


def test_the_editor_puts_a_pause_blocks_errors_next_to_its_fields(member_client, owner, plans, scheduled):
    client = member_client(owner)
    url = reverse("subscribers:subscription_schedule", args=[scheduled.pk])
    response = client.post(
        url,
        phase_post(
            [
                {"plan": plans["impressa"].pk, "iterations": "1"},
                {"kind": "pause", "end_date": "", "resume_mode": ""},  # no end, no resume mode, and last
            ]
        ),
    )
    assert response.status_code == 200
    errors = response.context["formset"].forms[1].errors
    assert "Informe até quando a assinatura fica pausada." in errors["end_date"]
    assert "Depois de uma pausa vem uma fase: adicione as condições da retomada." in errors["end_date"]
    assert errors["resume_mode"] == ["Escolha como retomar ao fim da pausa."]
    assert not scheduled.schedules.exists()
