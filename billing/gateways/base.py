"""The one interface every payment gateway adapter implements (sandbox, manual, real providers later).

The billing engine only talks to gateways through `charge` (or `charge_many`, its batched form),
`refund` and `status`, always with an idempotency key: a gateway that sees the same key twice answers
the first result again and moves no money the second time.
"""

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChargeRequest:
    merchant_id: int
    idempotency_key: str
    amount: int  # minor units
    currency: str
    method: str  # subscribers.choices.PaymentMethod value
    description: str = ""
    customer_email: str = ""
    # What the gateway needs to reach the money: a card token (the sandbox takes its test card numbers).
    payment_token: str = ""


@dataclass(frozen=True)
class ChargeResult:
    status: str  # billing.choices.PaymentStatus value: succeeded, failed or pending
    reference: str = ""
    failure_code: str = ""
    failure_message: str = ""
    expires_at: dt.datetime | None = None  # boleto / pix: when the pending payment lapses
    details: dict = field(default_factory=dict)  # e.g. boleto line, pix copy-and-paste code


@dataclass(frozen=True)
class RefundResult:
    status: str  # billing.choices.RefundStatus value
    reference: str = ""
    failure_code: str = ""
    failure_message: str = ""


class GatewayError(Exception):
    """The gateway could not be reached or answered nonsense; the attempt counts as failed."""


class GatewayAdapter:
    """Base class of the adapters; see billing.gateways.get_gateway."""

    name: str = ""
    # A remote gateway answers over the network (a provider's API, ~100–1000 ms a charge): the billing run
    # sends its charges outside any transaction, many at once (billing.services.remote_charging), instead
    # of inside the chunk's transaction like the in-process sandbox.
    remote: bool = False
    # For remote gateways: at most this many requests in flight at once and this many started per second
    # (0: no rate limit), per worker process and per provider account (`account_key`).
    max_concurrency: int = 1
    rate_per_second: float = 0.0

    @property
    def account_key(self) -> str:
        """What the concurrency bound and the rate limit are counted per: one provider account."""
        return self.name

    def charge(self, request: ChargeRequest) -> ChargeResult:  # pragma: no cover - interface
        raise NotImplementedError

    async def charge_async(self, request: ChargeRequest) -> ChargeResult:
        """`charge` from an event loop: how the billing run sends a remote gateway's charges
        (billing.services.remote_charging). Adapters with an async client override this; the default runs
        `charge` in the loop's thread pool."""
        return await asyncio.get_running_loop().run_in_executor(None, self.charge, request)

    def charge_many(self, requests: Sequence[ChargeRequest]) -> list[ChargeResult]:
        """One result per request, in order, each exactly what `charge` would have answered for it (a key
        seen before gets its first answer again). Raises GatewayError when any request would: the caller
        then knows nothing about the others and may ask again one by one, under the same keys, which is
        safe. Adapters with a bulk API override this; the default simply charges one after the other."""
        return [self.charge(request) for request in requests]

    def refund(
        self, *, merchant_id: int, payment_reference: str, amount: int, idempotency_key: str
    ) -> RefundResult:  # pragma: no cover
        raise NotImplementedError

    def status(self, *, merchant_id: int, reference: str) -> ChargeResult:  # pragma: no cover - interface
        raise NotImplementedError

    def cancel(self, *, merchant_id: int, reference: str) -> None:
        """Withdraws a pending charge (a boleto or pix nobody should pay any more). Adapters whose pending
        charges cannot be withdrawn keep this default, which does nothing: the engine has marked the
        payment canceled, so a late settlement of it is refused on our side."""
        return None
