"""Keeps the subscription's `last_payment_status` in step with every payment saved through the ORM."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.models import Payment
from billing.services.last_payment import sync_for_invoice


@receiver(post_save, sender=Payment, dispatch_uid="billing.last_payment_status")
def payment_saved(sender, instance: Payment, raw=False, **kwargs):
    if raw:  # loaddata: the fixture carries the subscription's column as it was
        return
    sync_for_invoice(instance.invoice_id)
