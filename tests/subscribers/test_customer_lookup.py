"""The subscription form's customer autocomplete: a JSON search on the server, scoped to the merchant, so the
form stays small and still reaches every customer."""

from django.urls import reverse

from subscribers.forms.contract import CUSTOMER_CHOICES_SHOWN, SubscriptionForm
from tests.factories import CustomerFactory, PlanFactory

LOOKUP = reverse("subscribers:customer_lookup")


def results(response):
    assert response["Content-Type"].startswith("application/json")
    return response.json()["results"]


def test_lookup_returns_matching_customers_as_json(owner_client, merchant, other_merchant):
    ana = CustomerFactory(
        merchant=merchant, name="Ana Souza", email="ana@example.com", document="52998224725"
    )
    CustomerFactory(merchant=merchant, name="Bruno Lima")
    CustomerFactory(merchant=other_merchant, name="Ana de Outra Loja")

    assert results(owner_client.get(LOOKUP, {"q": "ana"})) == [
        {"value": ana.pk, "text": "Ana Souza — ana@example.com"}
    ]
    # By what the label does not show: the CPF, with its punctuation.
    assert [r["value"] for r in results(owner_client.get(LOOKUP, {"q": "529.982.247"}))] == [ana.pk]


def test_another_merchants_customers_never_appear(owner_client, merchant, other_merchant):
    CustomerFactory(merchant=merchant, name="Carla Dias")
    theirs = CustomerFactory(merchant=other_merchant, name="Carla Outra", email="carla@outra.example")

    for query in ("", "carla", "Outra", "carla@outra.example", theirs.document):
        assert theirs.pk not in [r["value"] for r in results(owner_client.get(LOOKUP, {"q": query}))]


def test_the_lookup_reaches_past_the_customers_the_form_lists(owner_client, merchant):
    customers = CustomerFactory.create_batch(CUSTOMER_CHOICES_SHOWN + 5, merchant=merchant)
    last = sorted(customers, key=lambda c: (c.name, c.pk))[-1]

    assert last.pk in [r["value"] for r in results(owner_client.get(LOOKUP, {"q": last.email}))]


def test_lookup_answers_an_empty_list_when_nothing_matches(owner_client, merchant):
    assert results(owner_client.get(LOOKUP, {"q": "zzz"})) == []


def test_viewers_cannot_use_the_lookup(member_client, viewer):
    assert member_client(viewer).get(LOOKUP, {"q": "a"}).status_code == 403


def test_the_form_marks_its_selects_for_the_autocomplete(merchant, owner):
    form = SubscriptionForm(merchant=merchant, actor=owner)

    customer = form.fields["customer"].widget.attrs
    assert (customer["data-autocomplete"], customer["data-autocomplete-url"]) == ("remote", LOOKUP)
    assert form.fields["plan"].widget.attrs["data-autocomplete"] == "local"
    assert form.fields["salesperson"].widget.attrs["data-autocomplete"] == "local"
    # The empty choices are the boxes' placeholders: they say what to do, not "---------".
    assert form.fields["customer"].widget.choices[0] == ("", "Digite para buscar o cliente")
    assert list(form.fields["plan"].choices)[0] == ("", "Escolha o plano")


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
