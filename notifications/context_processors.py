from notifications.webhooks import selectors


def webhook_alerts(request):
    """`webhook_alerts`: the current merchant's automatically disabled endpoints, for the banner in
    base.html. A callable, so pages that never render the banner never run the query."""
    merchant = getattr(request, "merchant", None)
    if merchant is None:
        return {}
    return {"webhook_alerts": lambda: selectors.disabled_endpoint_alerts(merchant)}
