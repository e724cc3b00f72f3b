from django.db import models


class FactKind(models.TextChoices):
    """What a daily fact counts (see dashboard.selectors for the exact queries).

    Not shown to people, so the labels stay untranslated technical names.
    """

    # Subscriptions that paid at some point (status not scheduled, pending or trialing), by the day they
    # started counting (contract date, or the trial's end) and the day they ended; key = plan interval.
    RUNNING_START = "running_start", "running start"
    RUNNING_END = "running_end", "running end"
    # Subscriptions by contract date (every status), as "Contratada de/até" counts them.
    NEW = "new", "new"
    # Subscriptions by the day they were deactivated (ended_at), key = cancel origin ("" when none).
    DEACTIVATED = "deactivated", "deactivated"
    # Deactivations with a reason, key = the reason (whitespace collapsed, cut to REASON_LENGTH).
    REASON = "reason", "reason"
    # Deactivations with a reason the system words, or an option a customer picked in the portal
    # (Subscription.cancel_reason_code), key = dashboard.selectors.coded_reason_key: named when shown, in
    # the reader's language.
    REASON_CODE = "reason_code", "reason code"
    # Payments by the day they were created, key = payment method.
    PAYMENT_SUCCEEDED = "paid", "payment succeeded"
    PAYMENT_REFUNDED = "paid_refunded", "payment refunded"
    # Money received of which part went back, or which the bank took back: still revenue when received
    # (refunds are their own figure, REFUND), counted apart so each count matches its status filter.
    PAYMENT_PARTIALLY_REFUNDED = "paid_part_refunded", "payment partially refunded"
    PAYMENT_CHARGED_BACK = "paid_charged_back", "payment charged back"
    # Refunds that went through, by the day they were made.
    REFUND = "refund", "refund"


REASON_LENGTH = 100
