"""factory_boy factories for every model; tests build their world with these, never with fixtures files."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Membership, Merchant
from notifications.models import Event
from plans.choices import IntervalUnit
from plans.models import Plan
from subscribers.choices import EventKind, SubscriptionStatus
from subscribers.models import Customer, Subscription, SubscriptionEvent, SubscriptionTombstone

DEFAULT_PASSWORD = "senha-de-teste-123"


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Lojista {n}")
    slug = factory.Sequence(lambda n: f"lojista-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"usuario{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Maria"
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.OWNER


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Plano {n}")
    price = 4990
    currency = "BRL"
    interval_unit = IntervalUnit.MONTH
    interval_count = 1


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Cliente {n}")
    email = factory.Sequence(lambda n: f"cliente{n}@example.com")
    handle = factory.Sequence(lambda n: f"cliente{n}")
    document = ""


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A running monthly subscription contracted today. Real journeys go through
    subscribers.services.subscription_create; this is for setting up a world quickly."""

    class Meta:
        model = Subscription

    merchant = factory.SubFactory(MerchantFactory)
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    plan = factory.SubFactory(PlanFactory, merchant=factory.SelfAttribute("..merchant"))
    quantity = 1
    status = SubscriptionStatus.ACTIVE
    amount = factory.LazyAttribute(lambda s: s.plan.price * s.quantity)
    contract_date = factory.LazyFunction(timezone.localdate)
    billing_cycle_anchor = factory.LazyFunction(timezone.now)
    started_at = factory.LazyFunction(timezone.now)
    current_period_start = factory.LazyFunction(timezone.now)
    current_period_end = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


class SubscriptionEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriptionEvent

    merchant = factory.SubFactory(MerchantFactory)
    subscription = factory.SubFactory(SubscriptionFactory, merchant=factory.SelfAttribute("..merchant"))
    kind = EventKind.CREATED
    to_status = SubscriptionStatus.ACTIVE


class SubscriptionTombstoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriptionTombstone

    merchant = factory.SubFactory(MerchantFactory)
    subscription_pk = factory.Sequence(lambda n: 10_000 + n)
    customer_name = "Cliente Excluído"
    plan_name = "Plano"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    merchant = factory.SubFactory(MerchantFactory)
    type = "subscription.created"


# model → factory, so generic tests (isolation, admin) can build "an object of merchant B" for any model.
FACTORY_FOR_MODEL = {
    Merchant: MerchantFactory,
    Membership: MembershipFactory,
    Plan: PlanFactory,
    Customer: CustomerFactory,
    Subscription: SubscriptionFactory,
    SubscriptionEvent: SubscriptionEventFactory,
    SubscriptionTombstone: SubscriptionTombstoneFactory,
    Event: EventFactory,
}
