"""Notificações > Webhooks: the merchant's endpoints, the delivery of outbox events to them (signed,
retried on the schedule in notifications/retries.py, endpoints disabled when they keep failing), the delivery
log and the public event catalog page."""
