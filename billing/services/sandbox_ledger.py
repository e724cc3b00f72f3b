"""The sandbox gateway's ledger (`SandboxCharge`): its one state change, checked against its own table.

The sandbox plays a remote provider, so its ledger is the provider's record, not one of our billing states:
changing it writes no audit row and no outbox event (our side learns of it only through the results the
gateway returns, applied by billing.services.states). It still changes in one place, along one table, and
with a compare-and-set, so two requests racing on one charge (a settle and an expiry, say) cannot both win.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from billing.choices import PaymentStatus
from billing.models import SandboxCharge

P = PaymentStatus

# A charge the sandbox "bank" answered pending (boleto/pix) is paid, lapses or is withdrawn; nothing else
# moves. Card charges and refunds are recorded in their final state and never change.
SANDBOX_TRANSITIONS: dict[str, frozenset[str]] = {
    P.PENDING: frozenset({P.SUCCEEDED, P.FAILED, P.CANCELED}),
}


def sandbox_charge_move(row: SandboxCharge, to: str, **fields) -> SandboxCharge:
    """Moves `row` to `to` (with `fields`, e.g. settled_at) when its table allows it and nobody moved it
    first; refreshes `row` from the database and returns it. Raises ValidationError otherwise."""
    if to not in SANDBOX_TRANSITIONS.get(row.status, frozenset()):
        raise ValidationError(
            _("A cobrança %(reference)s do sandbox não pode passar de %(from)s para %(to)s.")
            % {"reference": row.reference, "from": row.status, "to": to},
            code="invalid_transition",
        )
    moved = SandboxCharge.objects.filter(pk=row.pk, status=row.status).update(status=to, **fields)
    row.refresh_from_db(fields=["status", *fields])
    if not moved:
        raise ValidationError(
            _("A cobrança %(reference)s do sandbox mudou de situação ao mesmo tempo (agora: %(status)s).")
            % {"reference": row.reference, "status": row.status},
            code="concurrent_transition",
        )
    return row
