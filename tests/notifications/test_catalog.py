"""Notificações > Eventos documents what we really send: every emitted type, with the real payload's keys."""

import ast
from pathlib import Path

import pytest

from core.events import EventType
from notifications.catalog import (
    EVENT_TYPES,
    EVENT_TYPES_BY_NAME,
    TEST_EVENT_TYPE,
    subscribable_event_type_choices,
)

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", "node_modules", "tests", "bench", "migrations"}


def _source_files():
    for path in ROOT.rglob("*.py"):
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def _event_type(node) -> str | None:
    """The value an `EventType.MEMBER` (or a string literal) in the code stands for."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "EventType":
        return EventType[node.attr].value
    return None


def emitted_types(*, literals: list | None = None) -> set[str]:
    """Every `emit(type=EventType.…)` in the code, plus the values of *_EVENT_TYPES tables for calls that
    pick their type from one (string literals passed as `type=` are collected into `literals`)."""
    found, dynamic = set(), []
    for path in _source_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        tables = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if any(name.endswith("EVENT_TYPES") for name in names):
                    tables |= {_event_type(v) for v in node.value.values} - {None}
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "emit_many"
            ):
                # Bulk paths pass (merchant, EventType.…, payload) tuples: the types named inside the call.
                found |= {
                    _event_type(inner) for inner in ast.walk(node) if isinstance(inner, ast.Attribute)
                } - {None}
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "emit"
            ):
                for keyword in node.keywords:
                    if keyword.arg != "type":
                        continue
                    if _event_type(keyword.value) is not None:
                        found.add(_event_type(keyword.value))
                        if literals is not None and isinstance(keyword.value, ast.Constant):
                            literals.append(f"{path}:{keyword.value.lineno}")
                    else:
                        dynamic.append(path)
        if path in dynamic:
            assert tables, f"{path}: emit(type=…) is computed but no *_EVENT_TYPES table lists its values"
            found |= tables
    return found


def test_the_grep_finds_the_types_we_know_we_emit():
    assert {
        "subscription.canceled",
        "invoice.paid",
        "payment.failed",
        "subscription.past_due",
    } <= emitted_types()


def test_every_emit_names_an_event_type_not_a_string():
    literals = []
    emitted_types(literals=literals)
    assert literals == []


def test_no_event_type_is_written_as_a_string_outside_the_enum():
    """Handlers, trigger tables and queries name EventType members too (docstrings may quote a value)."""
    values, found = set(EventType.values), []
    for path in _source_files():
        if path == ROOT / "core" / "events.py":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        found += [
            f"{path.relative_to(ROOT)}:{node.lineno} {node.value}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in values and id(node) not in docstrings
        ]
    assert found == []


def test_the_catalogue_documents_exactly_the_event_types_once_each():
    assert [entry.type for entry in EVENT_TYPES] == list(EventType)


def test_every_emitted_type_is_documented():
    missing = emitted_types() - set(EVENT_TYPES_BY_NAME)
    assert not missing, f"document these in notifications/catalog.py: {sorted(missing)}"


def test_nothing_is_documented_that_we_do_not_emit():
    assert set(EVENT_TYPES_BY_NAME) - emitted_types() == {TEST_EVENT_TYPE}


def test_endpoints_cannot_subscribe_to_the_test_event():
    assert TEST_EVENT_TYPE not in dict(subscribable_event_type_choices())


@pytest.mark.django_db
def test_the_samples_have_the_real_payloads_keys(merchant):
    from billing.services.charging import payment_payload
    from billing.services.invoicing import invoice_payload
    from billing.services.refunds import refund_payload
    from subscribers.services._common import _payload as subscription_payload
    from tests.factories import PaymentFactory, RefundFactory, SubscriptionFactory

    refund = RefundFactory(merchant=merchant)
    payment = refund.payment
    real = {
        "subscription.canceled": set(subscription_payload(SubscriptionFactory(merchant=merchant))),
        "invoice.paid": set(invoice_payload(payment.invoice)),
        "payment.succeeded": set(payment_payload(PaymentFactory(merchant=merchant))),
        "payment.refunded": set(payment_payload(payment)) | {"refund"},
    }

    for event_type, keys in real.items():
        assert set(EVENT_TYPES_BY_NAME[event_type].sample) == keys, event_type
    assert set(EVENT_TYPES_BY_NAME["payment.refunded"].sample["refund"]) == set(refund_payload(refund))
    for name, event_type in EVENT_TYPES_BY_NAME.items():
        if name.startswith("subscription."):
            assert real["subscription.canceled"] <= set(event_type.sample), name
        if name.startswith("invoice."):
            assert real["invoice.paid"] <= set(event_type.sample), name


def test_endpoints_can_subscribe_to_customer_updated():
    assert ("customer.updated", "customer.updated") in subscribable_event_type_choices()
