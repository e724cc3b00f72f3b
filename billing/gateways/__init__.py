"""Gateway adapters by name. Subscriptions paid by card, boleto or pix go through the sandbox here;
"manual" is for offline and PayPal-style payments that staff record by hand."""

from billing.gateways.base import ChargeRequest, ChargeResult, GatewayAdapter, GatewayError, RefundResult

__all__ = [
    "ChargeRequest",
    "ChargeResult",
    "GatewayAdapter",
    "GatewayError",
    "RefundResult",
    "get_gateway",
    "payment_codes",
]


def get_gateway(name: str) -> GatewayAdapter:
    from billing.gateways.manual import ManualGateway
    from billing.gateways.sandbox import SandboxGateway

    adapters = {SandboxGateway.name: SandboxGateway, ManualGateway.name: ManualGateway}
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
