"""factory_boy factories for every model; tests build their world with these, never with fixtures files."""

import factory
from django.contrib.auth import get_user_model

from accounts.choices import Role
from accounts.models import Membership, Merchant
from plans.choices import IntervalUnit
from plans.models import Plan
from subscribers.models import Customer

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


# model → factory, so generic tests (isolation, admin) can build "an object of merchant B" for any model.
FACTORY_FOR_MODEL = {
    Merchant: MerchantFactory,
    Membership: MembershipFactory,
    Plan: PlanFactory,
    Customer: CustomerFactory,
}
