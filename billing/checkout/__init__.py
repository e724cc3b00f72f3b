"""The public checkout page of a checkout link (plans.models.CheckoutLink): no login, the customer types
their details and pays; the subscription is contracted by subscribers' services and charged by billing's,
exactly as Nova assinatura does. It lives in billing because it needs both (docs/checkout.md)."""
