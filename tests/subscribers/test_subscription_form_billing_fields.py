"""Coupon, tax rates and card on the contract form (both paths), and tax rates on the edit form.

The rules are the services' (subscription_create / subscription_update); these tests check that the form
offers the merchant's choices, cleans what is typed, and that the screens show the service's answers.
Decision tested here: a chosen coupon wins over a manual discount, whose fields are then ignored.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from plans.choices import CouponDuration, CouponKind
from plans.selectors import coupon_list_queryset
from subscribers.choices import EventKind, PaymentMethod
from subscribers.forms.contract import SubscriptionForm
from subscribers.models import Subscription
from subscribers.services import subscription_create, subscription_update
from subscribers.validators import luhn_valid
from tests.factories import CouponFactory, CustomerFactory, PlanFactory, SubscriptionFactory, TaxRateFactory

CREATE_URL = reverse("subscribers:subscription_create")


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Plano Ouro", price=4990)


def _form_data(customer, plan, /, **overrides):
    data = {
        "customer": customer.pk,
        "contract_date": timezone.localdate().isoformat(),
        "plan": plan.pk,
        "quantity": "1",
        "payment_method": "card",
        "card_number": "",
        "discount_type": "",
        "coupon": "",
        "discount_percent": "",
        "discount_amount": "",
        "discount_periods": "",
        "salesperson": "",
    }
    data.update(overrides)
    return data


def _errors(response, field):
    return response.context["form"].errors.get(field, [])


# --- coupon ----------------------------------------------------------------------------------------
def test_contract_with_a_coupon_stores_it_and_counts_a_redemption(owner_client, merchant, customer, plan):
    coupon = CouponFactory(merchant=merchant, code="BEMVINDO", max_redemptions=5)

    response = owner_client.post(
        CREATE_URL, _form_data(customer, plan, discount_type="coupon", coupon=coupon.pk)
    )

    subscription = Subscription.objects.get()
    assert response.status_code == 302
    assert subscription.coupon == coupon
    assert subscription.coupon_applied_at is not None
    assert subscription.discount_type == ""
    assert subscription.amount == 4990  # the coupon discounts invoices; the manual discount stays none
    assert coupon_list_queryset().get(pk=coupon.pk).redemptions == 1


def test_contract_from_the_customers_tab_takes_a_coupon_too(owner_client, merchant, customer, plan):
    coupon = CouponFactory(merchant=merchant)
    url = reverse("subscribers:customer_subscription_create", args=[customer.pk])
    data = _form_data(customer, plan, discount_type="coupon", coupon=coupon.pk)
    del data["customer"]

    response = owner_client.post(url, data)

    assert response.status_code == 302
    assert Subscription.objects.get().coupon == coupon


def _other_merchants_coupon(merchant, other_merchant):
    return CouponFactory(merchant=other_merchant, code="ALHEIO")


def _inactive_coupon(merchant, other_merchant):
    return CouponFactory(merchant=merchant, is_active=False)


def _expired_coupon(merchant, other_merchant):
    return CouponFactory(merchant=merchant, expires_at=timezone.now() - dt.timedelta(minutes=1))


def _used_up_coupon(merchant, other_merchant):
    coupon = CouponFactory(merchant=merchant, max_redemptions=1)
    SubscriptionFactory(merchant=merchant, coupon=coupon)
    return coupon


@pytest.mark.parametrize(
    ("make_coupon", "message"),
    [
        (_other_merchants_coupon, "Cupom não encontrado."),
        (_inactive_coupon, "Este cupom está desativado."),
        (_expired_coupon, "Este cupom expirou."),
        (_used_up_coupon, "Este cupom já foi usado o número máximo de vezes."),
    ],
)
def test_contract_with_an_unusable_coupon_is_refused_next_to_the_field_and_saves_nothing(
    owner_client, merchant, other_merchant, customer, plan, make_coupon, message
):
    coupon = make_coupon(merchant, other_merchant)
    before = Subscription.objects.count()

    response = owner_client.post(
        CREATE_URL, _form_data(customer, plan, discount_type="coupon", coupon=coupon.pk)
    )

    assert response.status_code == 200
    assert _errors(response, "coupon") == [message]
    assert Subscription.objects.count() == before


def test_choosing_coupon_without_picking_one_asks_for_it(owner_client, customer, plan):
    response = owner_client.post(CREATE_URL, _form_data(customer, plan, discount_type="coupon"))

    assert _errors(response, "coupon") == ["Escolha o cupom."]
    assert not Subscription.objects.exists()


def test_coupon_wins_over_a_manual_discount_whose_fields_are_ignored(owner_client, merchant, customer, plan):
    coupon = CouponFactory(merchant=merchant)

    owner_client.post(
        CREATE_URL,
        _form_data(
            customer,
            plan,
            discount_type="coupon",
            coupon=coupon.pk,
            discount_percent="10",
            discount_amount="5,00",
            discount_periods="3",
        ),
    )

    subscription = Subscription.objects.get()
    assert subscription.coupon == coupon
    assert subscription.discount_type == ""
    assert subscription.discount_percent is None
    assert subscription.discount_amount is None
    assert subscription.discount_periods is None
    assert subscription.amount == 4990


def test_a_coupon_sent_with_a_manual_discount_type_still_wins(owner_client, merchant, customer, plan):
    # Without JavaScript both the coupon select and the manual fields are visible and sent.
    coupon = CouponFactory(merchant=merchant)

    response = owner_client.post(
        CREATE_URL, _form_data(customer, plan, discount_type="percent", coupon=coupon.pk)
    )

    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.coupon == coupon
    assert subscription.discount_type == ""


def test_a_manual_discount_without_a_coupon_is_kept(owner_client, customer, plan):
    owner_client.post(CREATE_URL, _form_data(customer, plan, discount_type="percent", discount_percent="10"))

    subscription = Subscription.objects.get()
    assert subscription.coupon is None
    assert subscription.coupon_applied_at is None
    assert subscription.discount_percent == Decimal("10")


def test_coupon_select_lists_only_redeemable_coupons_with_their_terms(
    owner_client, merchant, other_merchant, customer, plan
):
    CouponFactory(
        merchant=merchant,
        code="METADE",
        percent_off=Decimal("50"),
        duration=CouponDuration.REPEATING,
        duration_in_months=6,
    )
    CouponFactory(merchant=merchant, code="DEZ", kind=CouponKind.FIXED, percent_off=None, amount_off=1000)
    CouponFactory(merchant=merchant, code="SEMPRE", duration=CouponDuration.FOREVER)
    CouponFactory(merchant=merchant, code="DESATIVADO", is_active=False)
    CouponFactory(merchant=merchant, code="VENCIDO", expires_at=timezone.now() - dt.timedelta(days=1))
    _used_up_coupon(merchant, other_merchant)
    CouponFactory(merchant=other_merchant, code="ALHEIO")

    form = owner_client.get(CREATE_URL).context["form"]
    labels = [str(label) for _, label in form.fields["coupon"].widget.choices][1:]

    assert labels == ["DEZ — R$\xa010,00 uma vez", "METADE — 50% por 6 meses", "SEMPRE — 10% para sempre"]


# --- tax rates -------------------------------------------------------------------------------------
def test_contract_stores_the_chosen_tax_rates_and_notes_them_on_the_timeline(
    owner_client, merchant, customer, plan
):
    iss = TaxRateFactory(merchant=merchant, name="ISS")
    pis = TaxRateFactory(merchant=merchant, name="PIS", percentage=Decimal("0.65"))
    TaxRateFactory(merchant=merchant, name="Antigo", is_active=False)

    page = owner_client.get(CREATE_URL)
    response = owner_client.post(CREATE_URL, _form_data(customer, plan, tax_rates=[iss.pk, pis.pk]))

    assert list(page.context["form"].fields["tax_rates"].queryset) == [iss, pis]
    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert set(subscription.tax_rates.all()) == {iss, pis}
    created = subscription.events.get(kind=EventKind.CREATED)
    assert created.data["tax_rates"] == sorted([iss.pk, pis.pk])
    detail = owner_client.get(subscription.get_absolute_url()).content.decode()
    assert "ISS (5%)" in detail and "PIS (0.65%)" in detail


def test_contract_refuses_another_merchants_tax_rate(owner_client, other_merchant, customer, plan):
    foreign = TaxRateFactory(merchant=other_merchant)

    response = owner_client.post(CREATE_URL, _form_data(customer, plan, tax_rates=[foreign.pk]))

    assert response.status_code == 200
    assert _errors(response, "tax_rates") == ["Escolha impostos ativos da lista."]
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("rate_kwargs", "message"),
    [
        ({"other": True}, "Imposto não encontrado."),
        ({"is_active": False}, "O imposto “ISS” está desativado."),
    ],
)
def test_service_refuses_a_tax_rate_of_another_merchant_or_inactive(
    merchant, other_merchant, owner, customer, plan, rate_kwargs, message
):
    rate = TaxRateFactory(
        merchant=other_merchant if rate_kwargs.get("other") else merchant,
        name="ISS",
        is_active=rate_kwargs.get("is_active", True),
    )

    with pytest.raises(ValidationError) as excinfo:
        subscription_create(
            merchant=merchant,
            actor=owner,
            customer=customer,
            plan=plan,
            contract_date=timezone.localdate(),
            tax_rates=[rate],
        )

    assert excinfo.value.message_dict == {"tax_rates": [message]}
    assert not Subscription.objects.exists()


# --- card ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("4242 4242 4242 4241", "Número de cartão inválido: confira os dígitos."),
        ("4242 4242 42", "O número do cartão deve ter de 13 a 19 dígitos."),
        ("4242 4242 4242 4242 4242", "O número do cartão deve ter de 13 a 19 dígitos."),
        ("4242-4242-abcd-4242", "O número do cartão deve ter apenas dígitos (espaços e hífens são aceitos)."),
        ("4242/4242/4242/4242", "O número do cartão deve ter apenas dígitos (espaços e hífens são aceitos)."),
    ],
)
def test_an_invalid_card_number_is_refused_next_to_the_field(owner_client, customer, plan, typed, message):
    response = owner_client.post(CREATE_URL, _form_data(customer, plan, card_number=typed))

    assert response.status_code == 200
    assert _errors(response, "card_number") == [message]
    assert not Subscription.objects.exists()


def test_a_valid_card_is_kept_as_token_brand_and_last4_and_never_shown_in_full(owner_client, customer, plan):
    response = owner_client.post(CREATE_URL, _form_data(customer, plan, card_number="4000-0000 0000 0002"))

    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.payment_token == "4000000000000002"
    assert (subscription.card_brand, subscription.card_last4) == ("Visa", "0002")
    page = owner_client.get(subscription.get_absolute_url()).content.decode()
    assert "Visa •••• 0002" in page
    assert "4000000000000002" not in page and "4000 0000 0000 0002" not in page


def test_a_typed_card_number_is_not_written_back_when_another_field_has_an_error(
    owner_client, customer, plan
):
    response = owner_client.post(
        CREATE_URL, _form_data(customer, plan, quantity="0", card_number="5555 5555 5555 4444")
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "5555" not in page
    assert "digite-o outra vez" in page


def test_a_blank_card_is_allowed_and_the_page_names_the_sandbox_default(owner_client, customer, plan):
    owner_client.post(CREATE_URL, _form_data(customer, plan, card_number=""))

    subscription = Subscription.objects.get()
    assert subscription.payment_token == "" and subscription.card_last4 == ""
    assert "•••• 4242" in owner_client.get(subscription.get_absolute_url()).content.decode()


def test_the_card_is_ignored_for_other_payment_methods(owner_client, customer, plan):
    response = owner_client.post(
        CREATE_URL, _form_data(customer, plan, payment_method="boleto", card_number="not a card")
    )

    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.payment_method == PaymentMethod.BOLETO
    assert subscription.payment_token == "" and subscription.card_last4 == ""


def test_the_contract_form_lists_the_sandbox_test_cards(merchant):
    help_text = str(SubscriptionForm(merchant=merchant).fields["card_number"].help_text)

    for card in ("4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0000 0000 9995", "4000 0000 0000 0341"):
        assert card in help_text


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4242424242424242", True),
        ("4000000000000341", True),
        ("4242424242424241", False),
        ("79927398713", True),
    ],
)
def test_luhn_check(digits, valid):
    assert luhn_valid(digits) is valid


# --- edit: tax rates -------------------------------------------------------------------------------
def _update_data(subscription, **overrides):
    data = {
        "plan": subscription.plan_id,
        "quantity": subscription.quantity,
        "apply": "now",
        "payment_method": subscription.payment_method,
        "discount_type": "",
        "discount_percent": "",
        "discount_amount": "",
        "discount_periods": "",
        "salesperson": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def subscription(merchant, owner, customer, plan):
    return subscription_create(
        merchant=merchant, actor=owner, customer=customer, plan=plan, contract_date=timezone.localdate()
    )


def test_edit_replaces_the_tax_rates_and_records_the_change(owner_client, merchant, subscription):
    iss = TaxRateFactory(merchant=merchant, name="ISS")
    pis = TaxRateFactory(merchant=merchant, name="PIS")
    subscription.tax_rates.set([iss])
    url = reverse("subscribers:subscription_update", args=[subscription.pk])

    page = owner_client.get(url)
    response = owner_client.post(url, _update_data(subscription, tax_rates=[pis.pk]))

    assert page.context["form"]["tax_rates"].value() == [iss.pk]
    assert response.status_code == 302
    assert list(subscription.tax_rates.all()) == [pis]
    edited = subscription.events.get(kind=EventKind.EDITED)
    assert edited.data["changes"] == {"tax_rates": [[iss.pk], [pis.pk]]}
    detail = owner_client.get(subscription.get_absolute_url()).content.decode()
    assert "Alterado: impostos" in detail


def test_edit_without_tax_rates_checked_removes_them(owner_client, merchant, subscription):
    iss = TaxRateFactory(merchant=merchant)
    subscription.tax_rates.set([iss])

    owner_client.post(
        reverse("subscribers:subscription_update", args=[subscription.pk]), _update_data(subscription)
    )

    assert not subscription.tax_rates.exists()
    assert subscription.events.get(kind=EventKind.EDITED).data["changes"]["tax_rates"] == [[iss.pk], []]


def test_update_service_keeps_tax_rates_when_not_given(merchant, owner, subscription):
    iss = TaxRateFactory(merchant=merchant)
    subscription.tax_rates.set([iss])

    subscription_update(
        subscription=subscription,
        actor=owner,
        plan=subscription.plan,
        quantity=2,
        payment_method=subscription.payment_method,
    )

    assert list(subscription.tax_rates.all()) == [iss]
    assert "tax_rates" not in subscription.events.get(kind=EventKind.EDITED).data["changes"]


def test_update_service_keeps_a_rate_deactivated_since_but_refuses_new_inactive_or_foreign_ones(
    merchant, other_merchant, owner, subscription
):
    kept = TaxRateFactory(merchant=merchant, name="Mantido")
    subscription.tax_rates.set([kept])
    kept.is_active = False
    kept.save()
    inactive = TaxRateFactory(merchant=merchant, name="Novo inativo", is_active=False)
    foreign = TaxRateFactory(merchant=other_merchant)
    terms = {"actor": owner, "plan": subscription.plan, "quantity": 1, "payment_method": "card"}

    subscription_update(subscription=subscription, tax_rates=[kept], **terms)
    for rate, message in (
        (inactive, "O imposto “Novo inativo” está desativado."),
        (foreign, "Imposto não encontrado."),
    ):
        with pytest.raises(ValidationError) as excinfo:
            subscription_update(subscription=subscription, tax_rates=[kept, rate], **terms)
        assert excinfo.value.message_dict == {"tax_rates": [message]}

    assert list(subscription.tax_rates.all()) == [kept]
    assert not subscription.events.filter(kind=EventKind.EDITED).exists()


def test_edit_form_keeps_offering_a_rate_deactivated_since(owner_client, merchant, subscription):
    kept = TaxRateFactory(merchant=merchant, name="Mantido", is_active=False)
    active = TaxRateFactory(merchant=merchant, name="Ativo")
    TaxRateFactory(merchant=merchant, name="Outro inativo", is_active=False)
    subscription.tax_rates.set([kept])

    form = owner_client.get(reverse("subscribers:subscription_update", args=[subscription.pk])).context[
        "form"
    ]

    assert list(form.fields["tax_rates"].queryset) == [active, kept]
    assert "card_number" not in form.fields
    assert "coupon" in form.fields  # added or removed on an existing subscription (issue 11)
