"""Notificações: what the platform does when something happens to a merchant's subscriptions.

One Django app (label `notifications`), organised by feature, each package with the same rooms (models,
choices, services, selectors, filtersets, forms, tables, views, urls, admin):

- outbox/      the loop the consumers share to read the outbox (core.models.Event, written by every
               app's services through core.outbox.emit), and its admin page;
- webhooks/    endpoints, signed deliveries retried on a schedule, the delivery log, the event catalog page;
- emails/      e-mails to the merchant's customers: triggers, editable templates, the sending log;
- automations/ rules that act on events: send an e-mail, call a webhook, push a contact to a provider.

models.py, urls.py, admin.py and tasks.py only gather the features' own. Shared: catalog.py (the event
types receivers see), crypto.py and fields.py (secrets at rest), retries.py (the leased, retried work of
webhook deliveries and automation runs, with the retry schedule). docs/architecture.md describes it all.
"""
