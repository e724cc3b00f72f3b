"""core.fields.ChoiceLabelsMixin: get_<field>_display() from a per-language table, as Django reads it."""

from django.db.models import Model
from django.utils import translation

from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription


def _django_display(instance, name):
    # Django's own implementation, for comparison.
    return Model._get_FIELD_display(instance, instance._meta.get_field(name))


def test_labels_follow_the_active_language():
    subscription = Subscription(status=SubscriptionStatus.ACTIVE, payment_method=PaymentMethod.PIX)
    with translation.override("pt-br"):
        assert subscription.get_status_display() == "Ativa"
    with translation.override("en"):
        assert subscription.get_status_display() == "Active"
    with translation.override("pt-br"):  # the table is per language, not the first one asked
        assert subscription.get_status_display() == "Ativa"


def test_every_choice_and_an_unknown_value_read_as_django_reads_them():
    for language in ("pt-br", "en"):
        with translation.override(language):
            for status in [*SubscriptionStatus.values, "not-a-status", ""]:
                subscription = Subscription(status=status)
                assert subscription.get_status_display() == _django_display(subscription, "status")
            for method in PaymentMethod.values:
                subscription = Subscription(payment_method=method)
                assert subscription.get_payment_method_display() == _django_display(
                    subscription, "payment_method"
                )
    assert type(Subscription(status="active").get_status_display()) is str  # not a lazy string
