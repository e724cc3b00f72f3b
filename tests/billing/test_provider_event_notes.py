"""What processing an inbound provider event did is stored as a code of billing/provider_notes.py and its
params (ProviderEvent.note_code / note_params), never as a sentence in the billing worker's language, and
Eventos recebidos shows it in the reader's language; notes stored before as text are mapped to codes by
migration billing 0021 when they are exactly a known sentence."""

import datetime as dt
import importlib
import json

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from billing import provider_notes
from billing.choices import PaymentProvider
from billing.choices import ProviderEventStatus as PE
from billing.models import ProviderEvent
from billing.services.provider_events import provider_events_process
from subscribers.choices import SubscriptionStatus
from tests.factories import ProviderConnectionFactory, ProviderEventFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
CREATED_THEN_MOVED = "Assinatura criada a partir da Stripe. Situação alterada para Ativa."


def reader(user, language) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_a_note_is_a_code_whatever_the_workers_language_and_each_reader_reads_their_own(merchant, owner):
    # Given a Stripe subscription moved to past due, and an event of a type we do not handle
    ProviderConnectionFactory(merchant=merchant)
    SubscriptionFactory(merchant=merchant, provider=PaymentProvider.STRIPE, provider_id="sub_notes")
    body = {
        "id": "evt_notes",
        "data": {"object": {"object": "subscription", "id": "sub_notes", "status": "past_due"}},
    }
    moved = ProviderEventFactory(merchant=merchant, object_key="sub_notes", created=T0, body=json.dumps(body))
    unhandled = ProviderEventFactory(
        merchant=merchant, type="product.created", object_key="prod_1", created=T0
    )

    # When a billing worker running in Portuguese processes them
    with translation.override("pt-br"):
        provider_events_process(merchant_id=merchant.pk, object_key="sub_notes", now=T0)
        provider_events_process(merchant_id=merchant.pk, object_key="prod_1", now=T0)

    # Then each stores a code and its params, no sentence
    moved.refresh_from_db()
    unhandled.refresh_from_db()
    assert (moved.status, moved.note, moved.note_code, moved.note_params) == (
        PE.PROCESSED,
        "",
        provider_notes.STATUS_CHANGED,
        {"status": SubscriptionStatus.PAST_DUE},
    )
    assert (unhandled.status, unhandled.note, unhandled.note_code) == (PE.IGNORED, "", "unhandled_type")

    # And the list and the detail read in each reader's language
    english, portuguese = reader(owner, "en"), reader(owner, "pt-br")
    listed = english.get(reverse("billing:provider_event_list")).content.decode()
    assert "Status changed to past due." in listed and "Type not handled." in listed
    assert "Situação" not in listed and "Tipo não tratado." not in listed
    listed = portuguese.get(reverse("billing:provider_event_list")).content.decode()
    assert "Situação alterada para pagamento pendente." in listed and "Tipo não tratado." in listed
    assert "Status changed to past due." in english.get(moved.get_absolute_url()).content.decode()
    detail = portuguese.get(moved.get_absolute_url()).content.decode()
    assert "Situação alterada para pagamento pendente." in detail


def test_the_migration_maps_the_notes_stored_before_to_their_codes(merchant):
    migration = importlib.import_module("billing.migrations.0021_provider_event_note_codes")
    brl = json.dumps({"data": {"object": {"object": "charge", "currency": "brl"}}})
    stored = {
        # text: (code, params); None stays as it is
        "Mais antigo que o estado já aplicado.": ("older_than_applied", {}),
        "Nothing changed.": ("nothing_changed", {}),
        CREATED_THEN_MOVED: (
            "status_changed",
            {"status": "active", "created": True},
        ),
        "Invoice 12 is already paid.": ("invoice_already", {"number": 12, "invoice_status": "paid"}),
        "1 reembolso(s) da cobrança ch_1 registrado(s): R$\xa01.234,56.": (
            "refunds_recorded",
            {"count": 1, "id": "ch_1", "amount": 123456, "currency": "BRL"},
        ),
        "Cliente atualizado: nome, endereço.": ("customer_updated", {"fields": ["name", "address"]}),
        "Fatura 12 já está perdida.": None,  # not one of the invoice's statuses
        "Nada mudou": None,  # not exactly the sentence
    }
    events = {text: ProviderEventFactory(merchant=merchant, note=text, body=brl) for text in stored}
    unsigned = ProviderEventFactory(merchant=merchant, note="Nada mudou.", signature_valid=False)

    migration.to_codes(apps, None)

    for text, expected in stored.items():
        event = ProviderEvent.objects.get(pk=events[text].pk)
        code, params = expected or ("", {})
        assert (event.note, event.note_code, event.note_params) == ("" if expected else text, code, params)
    unsigned.refresh_from_db()
    assert (unsigned.note, unsigned.note_code) == ("Nada mudou.", "")  # what a provider's library said
    with translation.override("en"):
        combined = ProviderEvent.objects.get(pk=events["Cliente atualizado: nome, endereço."].pk)
        assert combined.note_display == "Customer updated: name, address."
        created = ProviderEvent.objects.get(pk=events[CREATED_THEN_MOVED].pk)
        assert created.note_display == "Subscription created from Stripe. Status changed to active."

    migration.to_text(apps, None)
    created.refresh_from_db()
    assert (created.note, created.note_code) == (CREATED_THEN_MOVED, "")
