"""Gateway adapters by name. Subscriptions paid by card, boleto or pix go through the sandbox here;
"manual" is for offline and PayPal-style payments that staff record by hand; "stripe" is a merchant's own
Stripe account charged by our engine (PaymentIntents, billing.gateways.stripe_intents).

Remote gateways belong to a merchant (its API key): `get_gateway(name, merchant_id=…)` asks the
factory registered for the name (`remote_gateways`), which builds the adapter from the merchant's
provider connection. Tests and benchmarks stand in for it with `remote_gateways.override(name, factory)`.
"""

import contextlib
from collections.abc import Callable

from billing.gateways.base import ChargeRequest, ChargeResult, GatewayAdapter, GatewayError, RefundResult

__all__ = [
    "ChargeRequest",
    "ChargeResult",
    "GatewayAdapter",
    "GatewayError",
    "RefundResult",
    "get_gateway",
    "payment_codes",
    "remote_gateways",
]

# The gateways that answer over the network: their charges take the billing run's two-phase path.
REMOTE_GATEWAYS = ("stripe",)


class RemoteGateways:
    """name → factory(merchant_id) → the merchant's adapter (raises GatewayError when not connected)."""

    def __init__(self):
        self.factories: dict[str, Callable[[int], GatewayAdapter]] = {}

    def register(self, name: str, factory: Callable[[int], GatewayAdapter]) -> None:
        self.factories[name] = factory

    @contextlib.contextmanager
    def override(self, name: str, factory: Callable[[int], GatewayAdapter]):
        previous = self.factories.get(name)
        self.factories[name] = factory
        try:
            yield
        finally:
            if previous is None:
                self.factories.pop(name, None)
            else:
                self.factories[name] = previous

    def build(self, name: str, merchant_id: int | None) -> GatewayAdapter:
        factory = self.factories.get(name)
        if factory is None:
            raise GatewayError(f"Gateway {name} is not configured on this server")
        if merchant_id is None:
            raise GatewayError(f"Gateway {name} needs the merchant whose account it charges")
        return factory(merchant_id)


remote_gateways = RemoteGateways()


def get_gateway(name: str, *, merchant_id: int | None = None) -> GatewayAdapter:
    from billing.gateways.manual import ManualGateway
    from billing.gateways.sandbox import SandboxGateway

    if name in REMOTE_GATEWAYS:
        return remote_gateways.build(name, merchant_id)
    # PayPal-tracked payments were recorded by hand: they are refunded like manual ones (the merchant's
    # word that the money went back through PayPal).
    adapters = {
        SandboxGateway.name: SandboxGateway,
        ManualGateway.name: ManualGateway,
        "paypal": ManualGateway,
    }
    try:
        return adapters[name]()
    except KeyError as exc:
        raise GatewayError(f"Unknown gateway: {name}") from exc


def payment_codes(payment) -> dict[str, str]:
    """What the customer pays a boleto or pix with: {"boleto_line": …, "pix_code": …} ("" when there is
    none). The sandbox derives them from its reference; the subscription page and the instructions e-mail
    both read them here."""
    from billing.gateways.sandbox import boleto_line, pix_code
    from subscribers.choices import PaymentMethod

    codes = {"boleto_line": "", "pix_code": ""}
    if payment.gateway == "sandbox" and payment.gateway_reference:
        if payment.method == PaymentMethod.BOLETO:
            codes["boleto_line"] = boleto_line(payment.gateway_reference, payment.amount)
        elif payment.method == PaymentMethod.PIX:
            codes["pix_code"] = pix_code(payment.gateway_reference, payment.amount)
    return codes
