"""The invoice, payment and refund state machines: one table each (billing.choices), one move() each
(billing.services.states), and no other code that assigns their status."""

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.choices import (
    CHARGEBACK_TRANSITIONS,
    INVOICE_ACTIONS,
    INVOICE_TRANSITIONS,
    MONEY_RECEIVED_STATUSES,
    PAYMENT_TRANSITIONS,
    REFUND_TRANSITIONS,
    ChargebackStatus,
    InvoiceStatus,
    PaymentStatus,
    RefundStatus,
)
from billing.services.batch import FAILED, PAID, SUCCEEDED
from billing.services.states import (
    INVOICE_EVENT_TYPES,
    PAYMENT_EVENT_TYPES,
    bulk_transition,
    chargeback_move,
    invoice_move,
    payment_move,
    refund_move,
)
from core.models import Event
from tests.factories import ChargebackFactory, InvoiceFactory, PaymentFactory, RefundFactory

NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


def pairs(table, allowed: bool):
    return [(a, b) for a in table for b in table if (b in table[a]) == allowed]


def test_every_status_has_a_row_in_its_table():
    assert set(INVOICE_TRANSITIONS) == set(InvoiceStatus)
    assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus)
    assert set(REFUND_TRANSITIONS) == set(RefundStatus)


def test_the_tables_have_the_designed_edges():
    assert INVOICE_TRANSITIONS[InvoiceStatus.DRAFT] == {InvoiceStatus.OPEN, InvoiceStatus.VOID}
    assert INVOICE_TRANSITIONS[InvoiceStatus.OPEN] == {
        InvoiceStatus.PAID,
        InvoiceStatus.UNCOLLECTIBLE,
        InvoiceStatus.VOID,
    }
    assert INVOICE_TRANSITIONS[InvoiceStatus.UNCOLLECTIBLE] == {InvoiceStatus.PAID}
    assert PAYMENT_TRANSITIONS[PaymentStatus.PENDING] == {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.FAILED,
        PaymentStatus.CANCELED,
    }
    assert not INVOICE_TRANSITIONS[InvoiceStatus.PAID] and not INVOICE_TRANSITIONS[InvoiceStatus.VOID]
    assert PAYMENT_TRANSITIONS[PaymentStatus.SUCCEEDED] == {
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
        PaymentStatus.CHARGED_BACK,
    }
    # A second partial refund is no move (the status stays, amount_refunded grows).
    assert PAYMENT_TRANSITIONS[PaymentStatus.PARTIALLY_REFUNDED] == {
        PaymentStatus.REFUNDED,
        PaymentStatus.CHARGED_BACK,
    }
    assert not PAYMENT_TRANSITIONS[PaymentStatus.REFUNDED]
    # A dispute won gives the money back: received again, as before the chargeback.
    assert PAYMENT_TRANSITIONS[PaymentStatus.CHARGED_BACK] == {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.PARTIALLY_REFUNDED,
    }
    assert {
        ChargebackStatus.OPEN: {ChargebackStatus.WON, ChargebackStatus.LOST},
        ChargebackStatus.WON: set(),
        ChargebackStatus.LOST: set(),
    } == CHARGEBACK_TRANSITIONS


@pytest.mark.parametrize(("from_status", "to_status"), pairs(INVOICE_TRANSITIONS, allowed=False))
def test_an_invoice_refuses_every_move_outside_its_table(db, from_status, to_status):
    invoice = InvoiceFactory(status=from_status)
    with pytest.raises(ValidationError) as refused:
        invoice_move(invoice=invoice, to=to_status, now=NOW)
    assert refused.value.code == "invalid_transition"
    invoice.refresh_from_db()
    assert invoice.status == from_status
    assert not Event.objects.exists()


@pytest.mark.parametrize(("from_status", "to_status"), pairs(INVOICE_TRANSITIONS, allowed=True))
def test_an_invoice_moves_along_its_table_with_its_event(db, from_status, to_status):
    invoice = InvoiceFactory(status=from_status, next_attempt_at=NOW)
    invoice_move(invoice=invoice, to=to_status, now=NOW)
    invoice.refresh_from_db()
    assert invoice.status == to_status
    event = Event.objects.get()
    assert (event.type, event.payload["status"], event.merchant_id) == (
        INVOICE_EVENT_TYPES[to_status],
        to_status,
        invoice.merchant_id,
    )
    if to_status == InvoiceStatus.PAID:
        assert invoice.paid_at == NOW
    if to_status != InvoiceStatus.OPEN:
        assert invoice.next_attempt_at is None


@pytest.mark.parametrize(("from_status", "to_status"), pairs(PAYMENT_TRANSITIONS, allowed=False))
def test_a_payment_refuses_every_move_outside_its_table(db, from_status, to_status):
    payment = PaymentFactory(status=from_status)
    with pytest.raises(ValidationError) as refused:
        payment_move(payment=payment, to=to_status, now=NOW)
    assert refused.value.code == "invalid_transition"
    payment.refresh_from_db()
    assert payment.status == from_status
    assert not Event.objects.exists()


@pytest.mark.parametrize(("from_status", "to_status"), pairs(PAYMENT_TRANSITIONS, allowed=True))
def test_a_payment_moves_along_its_table_with_its_event(db, from_status, to_status):
    payment = PaymentFactory(status=from_status)
    payment_move(payment=payment, to=to_status, now=NOW)
    payment.refresh_from_db()
    assert payment.status == to_status
    types = list(Event.objects.values_list("type", flat=True))
    # payment.refunded comes from the refund service, with the refund in its payload; a chargeback won
    # is told by chargeback.closed (the money was received once).
    expected = to_status in PAYMENT_EVENT_TYPES and from_status != PaymentStatus.CHARGED_BACK
    assert types == ([PAYMENT_EVENT_TYPES[to_status]] if expected else [])
    if to_status == PaymentStatus.SUCCEEDED and from_status == PaymentStatus.PENDING:
        assert payment.settled_at == NOW


@pytest.mark.parametrize(("from_status", "to_status"), pairs(CHARGEBACK_TRANSITIONS, allowed=False))
def test_a_chargeback_refuses_every_move_outside_its_table(db, from_status, to_status):
    chargeback = ChargebackFactory(status=from_status)
    with pytest.raises(ValidationError) as refused:
        chargeback_move(chargeback=chargeback, to=to_status, now=NOW)
    assert refused.value.code == "invalid_transition"


@pytest.mark.parametrize(("from_status", "to_status"), pairs(CHARGEBACK_TRANSITIONS, allowed=True))
def test_a_chargeback_moves_along_its_table(db, from_status, to_status):
    chargeback = ChargebackFactory(status=from_status)
    chargeback_move(chargeback=chargeback, to=to_status, now=NOW)
    chargeback.refresh_from_db()
    assert (chargeback.status, chargeback.closed_at) == (to_status, NOW)


@pytest.mark.parametrize(("from_status", "to_status"), pairs(REFUND_TRANSITIONS, allowed=False))
def test_a_refund_refuses_every_move_outside_its_table(db, from_status, to_status):
    refund = RefundFactory(status=from_status)
    with pytest.raises(ValidationError) as refused:
        refund_move(refund=refund, to=to_status, now=NOW)
    assert refused.value.code == "invalid_transition"


@pytest.mark.parametrize(("from_status", "to_status"), pairs(REFUND_TRANSITIONS, allowed=True))
def test_a_refund_moves_along_its_table(db, from_status, to_status):
    refund = RefundFactory(status=from_status)
    refund_move(refund=refund, to=to_status, now=NOW)
    refund.refresh_from_db()
    assert refund.status == to_status


def test_the_bulk_path_writes_only_table_edges():
    assert (PAID, SUCCEEDED, FAILED) == (InvoiceStatus.PAID, PaymentStatus.SUCCEEDED, PaymentStatus.FAILED)
    with pytest.raises(ValueError):
        bulk_transition(INVOICE_TRANSITIONS, InvoiceStatus.VOID, InvoiceStatus.PAID)


def test_invoice_actions_follow_the_transition_table():
    for action, statuses in INVOICE_ACTIONS.items():
        for status in statuses:
            assert INVOICE_TRANSITIONS[status], (action, status)
    assert INVOICE_ACTIONS["void"] == {InvoiceStatus.OPEN}
    assert INVOICE_ACTIONS["mark_uncollectible"] == {InvoiceStatus.OPEN}
    assert INVOICE_ACTIONS["record_payment"] == {InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE}


# --- nobody else assigns status ----------------------------------------------------------------------------
SKIP_DIRS = {".venv", "node_modules", "tests", "migrations", "bench"}
# Names under which code holds an Invoice, Payment or Refund (or a row of one).
WATCHED = ("invoice", "payment", "refund", "boleto", "pix")
# Where a status of these models may be written, and why.
ALLOWED = {
    ("billing/services/states.py", "_move"): "the one move() of invoices, payments and refunds",
    (
        "billing/services/batch.py",
        "renew_many",
    ): "set-based rows; statuses from bulk_transition (the tables)",
    (
        "billing/services/remote_charging.py",
        "_record_successes",
    ): "phase 3 of remote charging: set-based successes, statuses from bulk_transition (the tables)",
}


def _watched(node) -> bool:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.value if not isinstance(node, ast.Call) else node.func
    name = node.id if isinstance(node, ast.Name) else ""
    return any(word in name.lower() for word in WATCHED) or name in ("self", "instance", "obj")


def status_writes():
    """(path, function, line) of every `x.status = …`, `setattr(x, "status", …)` and `.update(status=…)`
    on a name that holds an invoice, payment or refund (or on a model's own instance)."""
    found = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SKIP_DIRS.intersection(relative.parts):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]:
            name = getattr(function, "name", "<module>")
            for node in ast.walk(function):
                targets = []
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        targets += target.elts if isinstance(target, ast.Tuple) else [target]
                elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                    targets = [node.target]
                for target in targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and target.attr == "status"
                        and _watched(target.value)
                    ):
                        found.append((str(relative), name, node.lineno))
                if isinstance(node, ast.Call):
                    func = node.func
                    if (
                        isinstance(func, ast.Name)
                        and func.id == "setattr"
                        and len(node.args) > 1
                        and getattr(node.args[1], "value", None) == "status"
                        and _watched(node.args[0])
                    ):
                        found.append((str(relative), name, node.lineno))
                    if (
                        isinstance(func, ast.Attribute)
                        and func.attr == "update"
                        and any(k.arg == "status" for k in node.keywords)
                        and any(
                            w in ast.unparse(func.value).lower() for w in ("invoice", "payment", "refund")
                        )
                    ):
                        found.append((str(relative), name, node.lineno))
    # Nested functions are walked twice (as part of their parent too): keep the innermost name.
    innermost = {}
    for path, name, line in found:
        if (path, line) not in innermost or name != "<module>":
            innermost[(path, line)] = name
    return {(path, name, line) for (path, line), name in innermost.items()}


def test_the_scan_finds_a_status_assignment():
    tree = "def f(invoice):\n    invoice.status = 'paid'\n"
    node = ast.parse(tree).body[0].body[0]
    assert node.targets[0].attr == "status" and _watched(node.targets[0].value)


def test_no_code_assigns_an_invoice_payment_or_refund_status_outside_the_move_functions():
    outside = sorted(
        (path, name, line) for path, name, line in status_writes() if (path, name) not in ALLOWED
    )
    assert not outside, f"use billing.services.states (invoice_move / payment_move / refund_move): {outside}"
    # The allow-list is not stale: each entry still writes a status.
    assert {(path, name) for path, name, _line in status_writes()} >= set(ALLOWED)


@pytest.mark.parametrize("received", sorted(MONEY_RECEIVED_STATUSES))
def test_an_invoice_whose_payment_was_received_cannot_be_paid_again(db, received):
    """The database's "one successful payment per invoice" counts a payment partly refunded or charged
    back as received: the invoice it paid takes no second successful payment."""
    first = PaymentFactory(status=received)
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentFactory(invoice=first.invoice, merchant=first.merchant, status=PaymentStatus.SUCCEEDED)
