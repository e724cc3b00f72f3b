"""Notificações > Automações: rules that act on subscription events (like Hotmart's segmentations).

A rule (Automation) has a trigger (an outbox event type, e.g. "canceled by the customer"), conditions
(plans, payment methods, cancel origins, an amount range) and one action: send a customer e-mail, call a
webhook, or push the contact to an e-mail marketing list through a ProviderIntegration. The outbox
consumer (runner.py) turns each Event into at most one AutomationRun per matching rule and executes the
runs with the webhook machinery's sender and SSRF guard (webhooks/services/dispatch.py) and the leased
retries they share (notifications/retries.py).

The same rooms as webhooks/ and emails/: models, choices, services (writes), selectors, filtersets,
forms, tables, views, urls, admin; plus triggers (what fires a rule), integrations (provider adapters)
and runner (the outbox consumer). Credentials at rest are encrypted by notifications/crypto.py.
"""
