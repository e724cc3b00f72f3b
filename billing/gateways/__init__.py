"""Gateway adapters by name. Subscriptions paid by card, boleto or pix go through the sandbox here;
"manual" is for offline and PayPal-style payments that staff record by hand."""

from billing.gateways.base import ChargeRequest, ChargeResult, GatewayAdapter, GatewayError, RefundResult

__all__ = ["ChargeRequest", "ChargeResult", "GatewayAdapter", "GatewayError", "RefundResult", "get_gateway"]


def get_gateway(name: str) -> GatewayAdapter:
    from billing.gateways.manual import ManualGateway
    from billing.gateways.sandbox import SandboxGateway

    adapters = {SandboxGateway.name: SandboxGateway, ManualGateway.name: ManualGateway}
    try:
        return adapters[name]()
    except KeyError as exc:
        raise GatewayError(f"Unknown gateway: {name}") from exc
