"""The subscription page's Linha do tempo: a line names a status change only when the status changed, and
the lines the system writes are shown in the reader's language."""

import importlib

import pytest
from django.conf import settings
from django.utils import translation

from subscribers import timeline
from subscribers.choices import EventKind, SubscriptionStatus
from subscribers.models import Subscription, SubscriptionEvent
from subscribers.services.schedules import PhaseSpec, schedule_advance, schedule_create, schedule_release
from tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_a_schedule_on_a_running_subscription_shows_its_status_once_not_as_a_change(
    member_client, owner, merchant
):
    # Given a subscription in trial that gets a schedule (the status stays Em teste)
    subscription = SubscriptionFactory(merchant=merchant, status=SubscriptionStatus.TRIALING)
    impressa = PlanFactory(merchant=merchant, name="Impressa", price=8990)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=impressa, iterations=1), PhaseSpec(plan=impressa, quantity=2)],
    )

    # When the owner opens its page
    page = member_client(owner).get(subscription.get_absolute_url()).content.decode()

    # Then the schedule's line says the status, without an arrow from a status to itself
    assert "Programação criada com 3 fases." in page
    assert "Em teste → Em teste" not in page
    assert "Status: Em teste" in page


# --- lines the system writes are translated when shown ----------------------------------------------
def _timeline(client, subscription, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(subscription.get_absolute_url()).content.decode()
    return page[page.index('id="subscription-timeline"') :]


def test_schedule_lines_are_shown_in_the_language_of_whoever_reads_them(member_client, owner, merchant):
    # Given a schedule created and entering its 2nd phase under pt-BR, then released under English
    subscription = SubscriptionFactory(merchant=merchant, status=SubscriptionStatus.ACTIVE)
    digital = PlanFactory(merchant=merchant, name="Digital", price=4990)
    with translation.override("pt-br"):
        schedule = schedule_create(
            subscription=subscription, actor=owner, phases=[PhaseSpec(plan=digital, iterations=2)]
        )
        schedule_advance(subscription=Subscription.objects.get(pk=subscription.pk), schedule=schedule)
    with translation.override("en"):
        schedule_release(schedule=schedule, actor=owner)
    client = member_client(owner)

    # When the owner reads the timeline in English, then in Portuguese
    english = _timeline(client, subscription, "en")
    portuguese = _timeline(client, subscription, "pt-br")

    # Then every line is in the reader's language, whichever language it was written under
    for line in (
        "Schedule created with 2 phases.",
        "Schedule phase 1 → 2.",
        "Subscription released from its schedule.",
    ):
        assert line in english
    for line in (
        "Programação criada com 2 fases.",
        "Fase 1 → 2 da programação.",
        "Assinatura liberada da programação.",
    ):
        assert line in portuguese
        assert line not in english
    assert "Schedule" not in portuguese


def test_a_line_without_a_code_is_shown_as_it_was_stored(member_client, owner, merchant):
    subscription = SubscriptionFactory(merchant=merchant, status=SubscriptionStatus.ACTIVE)
    SubscriptionEvent.objects.create(
        merchant=merchant, subscription=subscription, kind=EventKind.EDITED, reason="Pedido por telefone"
    )
    assert "Pedido por telefone" in _timeline(member_client(owner), subscription, "en")


def test_every_coded_line_has_its_english():
    for code in timeline.REASONS:
        params = {
            "count": 3,
            "from": None,
            "to": 1,
            "status": "trialing",
            "number": 58,
            "amount": 1000,
            "currency": "BRL",
            "reason": "—",
            "fields": ["phone", "address"],
            "code": "FICA50",
            # A customer's reason in the portal: the option (named in the reader's language), their words.
            "option": "price",
            "details": "caro",
            "message": "Cartão recusado",
            "unpaid": 1,
            "payment_status": "failed",
            "old": "0002",
            "new": "4242",
            "old_method": "card",
            "new_method": "pix",
            "method": "boleto",
            "date": "2026-03-10",
            "old_amount": 4990,
            "new_amount": 5990,
            "id": "in_1PzQ9m",
        }
        with translation.override("pt-br"):
            portuguese = timeline.reason_text(code, params)
        with translation.override("en"):
            english = timeline.reason_text(code, params)
        assert portuguese and english and portuguese != english, code


def test_a_status_inside_a_line_is_named_in_the_readers_language():
    """A schedule's pause block reached during a trial: the status is kept as its code and named when
    shown (it used to be stored as the writer's lower-case label)."""
    params = {"status": SubscriptionStatus.TRIALING}
    with translation.override("pt-br"):
        portuguese = timeline.reason_text(timeline.SCHEDULE_PAUSE_SKIPPED, params)
    with translation.override("en"):
        english = timeline.reason_text(timeline.SCHEDULE_PAUSE_SKIPPED, params)

    with translation.override("pt-br"):
        assert f"uma assinatura {str(SubscriptionStatus.TRIALING.label).lower()} não" in portuguese
    with translation.override("en"):
        assert str(SubscriptionStatus.TRIALING.label).lower() in english
    assert "trialing" not in portuguese and "Pausa" not in english


@pytest.mark.parametrize(
    ("stored", "code", "params"),
    [
        ("Programação criada com 3 fases.", "schedule_created", {"count": 3}),
        ("Schedule created with 3 phases.", "schedule_created", {"count": 3}),
        ("Fase — → 1 da programação.", "schedule_phase_started", {"from": None, "to": 1}),
        ("Schedule phase 2 → 3.", "schedule_phase_started", {"from": 2, "to": 3}),
        ("Fim da programação.", "schedule_ended_subscription", {}),
        ("Programação cancelada: a assinatura foi encerrada.", "schedule_canceled_by_ending", {}),
        ("Schedule canceled with the subscription.", "schedule_canceled", {}),
        ("Mudou de cidade", None, None),
    ],
)
def test_the_migration_maps_the_sentences_stored_before_to_their_codes(stored, code, params):
    # The rows written before codes existed hold the sentence in the language active then.
    migration = importlib.import_module("subscribers.migrations.0020_timeline_reason_codes")
    assert migration.code_of(stored) == (None if code is None else (code, params))
    if code is not None:
        with translation.override("pt-br"):
            pt_text = timeline.reason_text(code, params)
        assert migration.code_of(pt_text) == (code, params)
