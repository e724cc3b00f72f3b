"""The subscription form's customer search: server-side, scoped, and the form stays small."""

from django.urls import reverse

from subscribers.forms.contract import CUSTOMER_CHOICES_SHOWN, SubscriptionForm
from tests.factories import CustomerFactory, PlanFactory

LOOKUP = reverse("subscribers:customer_lookup")


def test_lookup_returns_matching_customers_as_options(owner_client, merchant, other_merchant):
    ana = CustomerFactory(merchant=merchant, name="Ana Souza", document="52998224725")
    CustomerFactory(merchant=merchant, name="Bruno Lima")
    CustomerFactory(merchant=other_merchant, name="Ana de Outra Loja")

    page = owner_client.get(LOOKUP, {"q": "ana"}).content.decode()
    assert f'value="{ana.pk}"' in page and "Bruno" not in page and "Outra Loja" not in page

    page = owner_client.get(LOOKUP, {"q": "529.982.247"}).content.decode()
    assert f'value="{ana.pk}"' in page


def test_lookup_says_when_nothing_matches(owner_client, merchant):
    assert "Nenhum cliente encontrado" in owner_client.get(LOOKUP, {"q": "zzz"}).content.decode()


def test_viewers_cannot_use_the_lookup(member_client, viewer):
    assert member_client(viewer).get(LOOKUP, {"q": "a"}).status_code == 403


def test_the_form_lists_a_few_customers_but_accepts_any_of_the_merchant(merchant, owner):
    customers = CustomerFactory.create_batch(CUSTOMER_CHOICES_SHOWN + 5, merchant=merchant)
    last = sorted(customers, key=lambda c: (c.name, c.pk))[-1]
    plan = PlanFactory(merchant=merchant)

    blank = SubscriptionForm(merchant=merchant, actor=owner)
    assert len(blank.fields["customer"].widget.choices) == CUSTOMER_CHOICES_SHOWN + 1  # + the empty choice

    bound = SubscriptionForm(
        data={
            "customer": last.pk,
            "plan": plan.pk,
            "quantity": 1,
            "payment_method": "card",
            "contract_date": merchant.localdate().isoformat(),  # today: no backdating choice to make
            "discount_type": "",
        },
        merchant=merchant,
        actor=owner,
    )
    assert any(value == last.pk for value, _label in bound.fields["customer"].widget.choices)
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["customer"] == last
