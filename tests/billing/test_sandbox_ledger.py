"""The sandbox ledger changes only along its own table, and only once when two callers race."""

import pytest
from django.core.exceptions import ValidationError

from billing.choices import PaymentStatus as P
from billing.models import SandboxCharge
from billing.services.sandbox_ledger import SANDBOX_TRANSITIONS, sandbox_charge_move
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db

STATUSES = [P.PENDING, P.SUCCEEDED, P.FAILED, P.CANCELED]


def _charge(status, n=0):
    return SandboxCharge.objects.create(
        merchant=MerchantFactory(),
        idempotency_key=f"key-{status}-{n}",
        reference=f"sbx_ch_{status}_{n}",
        method="boleto",
        amount=4990,
        currency="BRL",
        status=status,
    )


@pytest.mark.parametrize("start", STATUSES)
@pytest.mark.parametrize("to", STATUSES)
def test_every_move_outside_the_table_is_refused_and_every_move_in_it_is_made(start, to):
    row = _charge(start)
    if to in SANDBOX_TRANSITIONS.get(start, ()):
        assert sandbox_charge_move(row, to).status == to
        assert SandboxCharge.objects.get(pk=row.pk).status == to
    else:
        with pytest.raises(ValidationError) as caught:
            sandbox_charge_move(row, to)
        assert caught.value.code == "invalid_transition"
        assert SandboxCharge.objects.get(pk=row.pk).status == start


def test_a_stale_copy_cannot_move_a_charge_someone_else_already_moved():
    row = _charge(P.PENDING)
    stale = SandboxCharge.objects.get(pk=row.pk)
    sandbox_charge_move(row, P.CANCELED)

    with pytest.raises(ValidationError) as caught:
        sandbox_charge_move(stale, P.SUCCEEDED)

    assert caught.value.code == "concurrent_transition"
    assert SandboxCharge.objects.get(pk=row.pk).status == P.CANCELED
    assert stale.status == P.CANCELED  # refreshed, so the caller sees what won
