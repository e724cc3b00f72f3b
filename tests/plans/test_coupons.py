"""Cupons: the rules of the coupon services, and the list, detail, form and deactivate screens."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from plans import services
from plans.choices import CouponDuration, CouponKind
from plans.models import Coupon
from tests.factories import CouponFactory, MerchantFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("plans:coupon_list")
CREATE_URL = reverse("plans:coupon_create")
FUTURE = timezone.now() + dt.timedelta(days=365 * 50)


def coupon_kwargs(**overrides):
    return {
        "code": "BEMVINDO10",
        "name": "Boas-vindas",
        "kind": CouponKind.PERCENT,
        "percent_off": Decimal("10"),
        "amount_off": None,
        "currency": "BRL",
        "duration": CouponDuration.ONCE,
        "duration_in_months": None,
        "max_redemptions": None,
        "expires_at": None,
        "is_active": True,
        **overrides,
    }


def refusal(merchant, owner, **overrides) -> dict:
    """Tries to create a coupon and returns {field: [codes]} of the refusal; nothing may be saved."""
    with pytest.raises(ValidationError) as excinfo:
        services.coupon_create(merchant=merchant, **coupon_kwargs(**overrides))
    assert not Coupon.objects.exists()
    return {field: [e.code for e in errors] for field, errors in excinfo.value.error_dict.items()}


def used(coupon, times=1):
    for _ in range(times):
        SubscriptionFactory(merchant=coupon.merchant, coupon=coupon, coupon_applied_at=timezone.now())
    return coupon


# --- services: create -----------------------------------------------------------------------------


def test_create_saves_the_coupon_with_the_code_in_upper_case(merchant, owner):
    coupon = services.coupon_create(merchant=merchant, **coupon_kwargs(code="  bem-vindo-10 "))

    coupon.refresh_from_db()
    assert (coupon.merchant, coupon.code, coupon.percent_off) == (merchant, "BEM-VINDO-10", Decimal("10"))


def test_create_uses_the_merchants_currency_when_none_is_given(merchant, owner):
    kwargs = coupon_kwargs(kind=CouponKind.FIXED, percent_off=None, amount_off=500)
    del kwargs["currency"]

    coupon = services.coupon_create(merchant=merchant, **kwargs)

    assert coupon.currency == merchant.currency


def test_the_code_is_required(merchant, owner):
    assert refusal(merchant, owner, code="   ") == {"code": ["required"]}


@pytest.mark.parametrize("code", ["BEM VINDO", "PROMOÇÃO", "DEZ%", "A_B"])
def test_the_code_takes_only_letters_digits_and_hyphen(merchant, owner, code):
    assert refusal(merchant, owner, code=code) == {"code": ["invalid_code"]}


def test_the_code_is_unique_per_merchant_ignoring_case(merchant, owner):
    CouponFactory(merchant=merchant, code="BEMVINDO10")

    with pytest.raises(ValidationError) as excinfo:
        services.coupon_create(merchant=merchant, **coupon_kwargs(code="bemVindo10"))

    assert excinfo.value.error_dict["code"][0].code == "duplicate_code"
    assert Coupon.objects.count() == 1


def test_another_merchant_may_use_the_same_code(merchant, owner):
    CouponFactory(merchant=MerchantFactory(), code="BEMVINDO10")

    assert services.coupon_create(merchant=merchant, **coupon_kwargs()).pk


def test_a_percent_coupon_needs_a_percentage(merchant, owner):
    assert refusal(merchant, owner, percent_off=None) == {"percent_off": ["percent_required"]}


@pytest.mark.parametrize("percent_off", [Decimal("0"), Decimal("0.001"), Decimal("100.01"), Decimal("-5")])
def test_a_percent_coupon_takes_from_0_01_to_100_percent(merchant, owner, percent_off):
    assert refusal(merchant, owner, percent_off=percent_off) == {"percent_off": ["percent_out_of_range"]}


@pytest.mark.parametrize("percent_off", [Decimal("0.01"), Decimal("100")])
def test_the_percent_limits_are_accepted(merchant, owner, percent_off):
    assert services.coupon_create(merchant=merchant, **coupon_kwargs(percent_off=percent_off)).pk


def test_a_percent_coupon_has_no_fixed_amount(merchant, owner):
    assert refusal(merchant, owner, amount_off=500) == {"amount_off": ["amount_not_allowed"]}


def test_a_fixed_coupon_needs_an_amount(merchant, owner):
    assert refusal(merchant, owner, kind=CouponKind.FIXED, percent_off=None) == {
        "amount_off": ["amount_required"]
    }


def test_a_fixed_coupon_takes_at_least_one_centavo(merchant, owner):
    errors = refusal(merchant, owner, kind=CouponKind.FIXED, percent_off=None, amount_off=0)
    assert errors == {"amount_off": ["amount_too_small"]}
    coupon = services.coupon_create(
        merchant=merchant, **coupon_kwargs(kind=CouponKind.FIXED, percent_off=None, amount_off=1)
    )
    assert coupon.amount_off == 1


def test_a_fixed_coupon_has_no_percentage(merchant, owner):
    errors = refusal(merchant, owner, kind=CouponKind.FIXED, amount_off=500)
    assert errors == {"percent_off": ["percent_not_allowed"]}


@pytest.mark.parametrize("months", [None, 0])
def test_a_repeating_coupon_needs_at_least_one_month(merchant, owner, months):
    errors = refusal(merchant, owner, duration=CouponDuration.REPEATING, duration_in_months=months)
    assert errors == {"duration_in_months": ["months_required"]}


@pytest.mark.parametrize("duration", [CouponDuration.ONCE, CouponDuration.FOREVER])
def test_only_repeating_coupons_have_months(merchant, owner, duration):
    errors = refusal(merchant, owner, duration=duration, duration_in_months=3)
    assert errors == {"duration_in_months": ["months_not_allowed"]}


def test_a_repeating_coupon_for_six_months(merchant, owner):
    coupon = services.coupon_create(
        merchant=merchant,
        **coupon_kwargs(duration=CouponDuration.REPEATING, duration_in_months=6),
    )
    assert coupon.duration_in_months == 6


def test_the_redemption_limit_is_at_least_one(merchant, owner):
    assert refusal(merchant, owner, max_redemptions=0) == {"max_redemptions": ["max_redemptions_too_small"]}


def test_the_expiry_cannot_be_in_the_past_on_create(merchant, owner):
    now = timezone.now()
    with pytest.raises(ValidationError) as excinfo:
        services.coupon_create(
            merchant=merchant, now=now, **coupon_kwargs(expires_at=now - dt.timedelta(minutes=1))
        )
    assert excinfo.value.error_dict["expires_at"][0].code == "expires_in_past"


def test_several_mistakes_are_reported_together(merchant, owner):
    errors = refusal(
        merchant, owner, code="a b", percent_off=None, duration=CouponDuration.REPEATING, max_redemptions=0
    )
    assert set(errors) == {"code", "percent_off", "duration_in_months", "max_redemptions"}


# --- services: update and deactivate --------------------------------------------------------------


def update_kwargs(coupon, **overrides):
    fields = {name: getattr(coupon, name) for name in services.COUPON_EDITABLE_FIELDS}
    return {**fields, **overrides}


def test_an_unused_coupon_may_change_everything(merchant, owner):
    coupon = CouponFactory(merchant=merchant, code="DEZ")

    services.coupon_update(
        coupon=coupon,
        **update_kwargs(
            coupon,
            code="vinte",
            kind=CouponKind.FIXED,
            percent_off=None,
            amount_off=2000,
            duration=CouponDuration.FOREVER,
        ),
    )

    coupon.refresh_from_db()
    assert (coupon.code, coupon.kind, coupon.amount_off, coupon.duration) == (
        "VINTE",
        "fixed",
        2000,
        "forever",
    )


def test_an_update_may_keep_its_own_code(merchant, owner):
    coupon = CouponFactory(merchant=merchant, code="DEZ")
    services.coupon_update(coupon=coupon, **update_kwargs(coupon, code="dez", name="Novo nome"))
    assert Coupon.objects.get().name == "Novo nome"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", CouponKind.FIXED),
        ("percent_off", Decimal("20")),
        ("duration", CouponDuration.FOREVER),
        ("code", "OUTRO"),
    ],
)
def test_a_used_coupon_cannot_change_its_terms(merchant, owner, field, value):
    coupon = used(CouponFactory(merchant=merchant, code="DEZ", percent_off=Decimal("10")))
    overrides = {field: value}
    if field == "kind":
        overrides.update(percent_off=None, amount_off=1000)

    with pytest.raises(ValidationError) as excinfo:
        services.coupon_update(coupon=coupon, **update_kwargs(coupon, **overrides))

    assert excinfo.value.error_dict[field][0].code == "coupon_in_use"
    stored = Coupon.objects.get()
    assert (stored.code, stored.kind, stored.percent_off, stored.duration) == ("DEZ", "percent", 10, "once")


def test_a_used_fixed_coupon_cannot_change_its_amount(merchant, owner):
    coupon = used(CouponFactory(merchant=merchant, kind=CouponKind.FIXED, percent_off=None, amount_off=1000))

    with pytest.raises(ValidationError) as excinfo:
        services.coupon_update(coupon=coupon, **update_kwargs(coupon, amount_off=900))

    assert excinfo.value.error_dict["amount_off"][0].code == "coupon_in_use"


def test_a_used_coupon_may_change_name_active_limit_and_expiry(merchant, owner):
    coupon = used(CouponFactory(merchant=merchant), times=2)

    services.coupon_update(
        coupon=coupon,
        **update_kwargs(coupon, name="Renomeado", is_active=False, max_redemptions=5, expires_at=FUTURE),
    )

    coupon.refresh_from_db()
    assert (coupon.name, coupon.is_active, coupon.max_redemptions) == ("Renomeado", False, 5)
    assert coupon.expires_at == FUTURE


def test_the_limit_cannot_go_below_the_uses_so_far(merchant, owner):
    coupon = used(CouponFactory(merchant=merchant), times=3)

    with pytest.raises(ValidationError) as excinfo:
        services.coupon_update(coupon=coupon, **update_kwargs(coupon, max_redemptions=2))

    error = excinfo.value.error_dict["max_redemptions"][0]
    assert error.code == "max_redemptions_below_usage"
    assert "3 vezes" in error.messages[0]


def test_an_expired_coupon_can_still_be_renamed(merchant, owner):
    coupon = CouponFactory(merchant=merchant, expires_at=timezone.now() - dt.timedelta(days=1))

    services.coupon_update(coupon=coupon, **update_kwargs(coupon, name="Antigo"))

    assert Coupon.objects.get().name == "Antigo"


def test_deactivate_stops_the_coupon_and_refuses_twice(merchant, owner):
    coupon = CouponFactory(merchant=merchant)

    services.coupon_deactivate(coupon=coupon)

    assert Coupon.objects.get().is_active is False
    with pytest.raises(ValidationError) as excinfo:
        services.coupon_deactivate(coupon=coupon)
    assert excinfo.value.code == "coupon_already_inactive"


# --- screens: create and edit ---------------------------------------------------------------------

VALID_FORM = {
    "code": "bemvindo10",
    "name": "Boas-vindas",
    "kind": "percent",
    "percent_off": "12,5",
    "amount_off": "",
    "currency": "BRL",
    "duration": "once",
    "duration_in_months": "",
    "max_redemptions": "",
    "expires_at": "",
    "is_active": "on",
}


def form_data(**overrides):
    return {**VALID_FORM, **overrides}


def field_errors(response, field):
    return [str(e) for e in response.context["form"].errors.get(field, [])]


def test_the_create_form_renders(owner_client):
    response = owner_client.get(CREATE_URL)

    assert response.status_code == 200
    assert response.context["form"]["currency"].value() == "BRL"
    assert 'id="coupon-form"' in response.content.decode()


def test_create_through_the_screen(owner_client, merchant):
    response = owner_client.post(CREATE_URL, form_data(expires_at="2099-12-31T23:59", max_redemptions="100"))

    coupon = Coupon.objects.get()
    assert response.status_code == 302
    assert response["Location"] == coupon.get_absolute_url()
    assert (coupon.merchant, coupon.code, coupon.percent_off) == (merchant, "BEMVINDO10", Decimal("12.5"))
    assert coupon.max_redemptions == 100
    assert timezone.localtime(coupon.expires_at).strftime("%d/%m/%Y %H:%M") == "31/12/2099 23:59"


def test_a_fixed_coupon_for_three_months_through_the_screen(owner_client):
    response = owner_client.post(
        CREATE_URL,
        form_data(kind="fixed", amount_off="1.234,50", duration="repeating", duration_in_months="3"),
    )

    assert response.status_code == 302
    coupon = Coupon.objects.get()
    # The percent typed before switching to "valor fixo" is ignored, not refused.
    assert (coupon.kind, coupon.amount_off, coupon.percent_off) == ("fixed", 123450, None)
    assert (coupon.duration, coupon.duration_in_months) == ("repeating", 3)


def test_months_left_over_from_another_duration_are_ignored(owner_client):
    owner_client.post(CREATE_URL, form_data(duration="forever", duration_in_months="0", amount_off="abc"))

    coupon = Coupon.objects.get()
    assert (coupon.duration, coupon.duration_in_months, coupon.amount_off) == ("forever", None, None)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"code": ""}, "code", "Informe o código do cupom."),
        (
            {"code": "bem vindo"},
            "code",
            "Use apenas letras sem acento, números e hífen (por exemplo BEMVINDO-10).",
        ),
        ({"percent_off": ""}, "percent_off", "Informe o percentual de desconto."),
        ({"percent_off": "0"}, "percent_off", "O percentual deve estar entre 0,01 e 100."),
        ({"percent_off": "150"}, "percent_off", "O percentual deve estar entre 0,01 e 100."),
        ({"percent_off": "dez"}, "percent_off", "Informe um percentual, por exemplo 12,5."),
        ({"kind": "fixed", "amount_off": ""}, "amount_off", "Informe o valor do desconto."),
        ({"kind": "fixed", "amount_off": "0,00"}, "amount_off", "O desconto deve ser de pelo menos R$ 0,01."),
        ({"kind": "fixed", "amount_off": "-5"}, "amount_off", "O desconto deve ser de pelo menos R$ 0,01."),
        (
            {"duration": "repeating", "duration_in_months": ""},
            "duration_in_months",
            "Informe por quantos meses o desconto vale (pelo menos 1).",
        ),
        (
            {"duration": "repeating", "duration_in_months": "0"},
            "duration_in_months",
            "Informe por quantos meses o desconto vale (pelo menos 1).",
        ),
        (
            {"max_redemptions": "0"},
            "max_redemptions",
            "O limite de usos deve ser pelo menos 1. Deixe vazio para não limitar.",
        ),
        ({"expires_at": "2001-01-01T10:00"}, "expires_at", "A validade não pode estar no passado."),
        ({"expires_at": "amanhã"}, "expires_at", "Informe data e hora, por exemplo 31/12/2025 23:59."),
        ({"kind": ""}, "kind", "Escolha o tipo de desconto."),
    ],
)
def test_bad_input_is_refused_next_to_its_field(owner_client, overrides, field, message):
    response = owner_client.post(CREATE_URL, form_data(**overrides))

    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert not Coupon.objects.exists()


def test_a_duplicate_code_is_refused_next_to_the_code(owner_client, merchant):
    CouponFactory(merchant=merchant, code="BEMVINDO10")

    response = owner_client.post(CREATE_URL, form_data(code="BemVindo10"))

    assert field_errors(response, "code") == ["Já existe um cupom com este código."]
    assert Coupon.objects.count() == 1


def test_the_edit_form_shows_the_coupon_and_saves_changes(owner_client, merchant):
    coupon = CouponFactory(merchant=merchant, code="DEZ", kind="fixed", percent_off=None, amount_off=1050)
    url = reverse("plans:coupon_update", args=[coupon.pk])

    form = owner_client.get(url).context["form"]
    assert form["amount_off"].value() == Decimal("10.50")
    assert 'value="10,50"' in str(form["amount_off"])

    response = owner_client.post(
        url, form_data(code="dez", kind="fixed", amount_off="10,50", name="Dez reais")
    )

    assert response.status_code == 302
    coupon.refresh_from_db()
    assert (coupon.name, coupon.amount_off) == ("Dez reais", 1050)


def test_editing_a_used_coupon_warns_and_refuses_new_terms_next_to_the_field(owner_client, merchant):
    coupon = used(CouponFactory(merchant=merchant, code="DEZ", percent_off=Decimal("10")), times=2)
    url = reverse("plans:coupon_update", args=[coupon.pk])

    assert 'id="coupon-in-use"' in owner_client.get(url).content.decode()
    response = owner_client.post(url, form_data(code="DEZ", percent_off="20"))

    assert response.status_code == 200
    assert field_errors(response, "percent_off") == [
        "Este cupom já foi usado por assinaturas: só nome, ativo, limite de usos e validade podem mudar."
    ]
    assert Coupon.objects.get().percent_off == Decimal("10")


# --- screens: list, detail, deactivate ------------------------------------------------------------


def codes(response):
    return [coupon.code for coupon in response.context["table"].page.object_list.data]


def listed(client, **params):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return codes(response)


@pytest.fixture
def coupons(merchant):
    past = timezone.now() - dt.timedelta(days=1)
    return [
        CouponFactory(merchant=merchant, code="ATIVO", name="Black Friday"),
        CouponFactory(merchant=merchant, code="FUTURO", expires_at=FUTURE),
        CouponFactory(merchant=merchant, code="PAUSADO", is_active=False),
        CouponFactory(merchant=merchant, code="VENCIDO", expires_at=past),
        CouponFactory(merchant=merchant, code="VENCIDO-INATIVO", expires_at=past, is_active=False),
    ]


def test_the_list_shows_every_coupon_sorted_by_code(owner_client, coupons):
    assert listed(owner_client) == ["ATIVO", "FUTURO", "PAUSADO", "VENCIDO", "VENCIDO-INATIVO"]


def test_search_matches_code_and_name_ignoring_case(owner_client, coupons):
    assert listed(owner_client, q="black") == ["ATIVO"]
    assert listed(owner_client, q="venc") == ["VENCIDO", "VENCIDO-INATIVO"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", ["ATIVO", "FUTURO"]),
        ("inactive", ["PAUSADO"]),
        ("expired", ["VENCIDO", "VENCIDO-INATIVO"]),
    ],
)
def test_status_filter(owner_client, coupons, status, expected):
    assert listed(owner_client, status=status) == expected


def test_rows_show_discount_duration_usage_and_status(owner_client, merchant):
    used(CouponFactory(merchant=merchant, code="LIMITADO", max_redemptions=10), times=2)
    CouponFactory(
        merchant=merchant,
        code="FIXO",
        kind="fixed",
        percent_off=None,
        amount_off=1990,
        duration="repeating",
        duration_in_months=6,
    )
    CouponFactory(merchant=merchant, code="VENCIDO", expires_at=timezone.now() - dt.timedelta(days=1))

    content = owner_client.get(LIST_URL).content.decode()

    for text in ["usos: 2 de 10", "usos: 0 (sem limite)", "10%", "R$\xa019,90", "Por 6 meses"]:
        assert text in content
    assert "Só na primeira cobrança" in content
    assert ">Ativo</span>" in content
    assert ">Expirado</span>" in content


def test_sorting_by_usage(owner_client, merchant):
    used(CouponFactory(merchant=merchant, code="MUITO"), times=3)
    used(CouponFactory(merchant=merchant, code="POUCO"), times=1)
    CouponFactory(merchant=merchant, code="NADA")

    assert listed(owner_client, sort="redemptions") == ["NADA", "POUCO", "MUITO"]
    for column in ("name", "duration", "expires_at", "status", "-code"):
        assert len(listed(owner_client, sort=column)) == 3


def test_an_empty_list_invites_to_create_the_first_coupon(owner_client, merchant):
    content = owner_client.get(LIST_URL).content.decode()

    assert "Nenhum cupom ainda." in content
    assert CREATE_URL in content


def test_a_filter_without_results_offers_to_clear_it(owner_client, coupons):
    content = owner_client.get(LIST_URL, {"q": "inexistente"}).content.decode()

    assert "Nenhum resultado para estes filtros." in content


def test_the_list_page_runs_a_bounded_number_of_queries(
    owner_client, merchant, django_assert_max_num_queries
):
    Coupon.objects.bulk_create(
        CouponFactory.build(merchant=merchant, code=f"CUPOM-{i:03d}", max_redemptions=i % 3 or None)
        for i in range(200)
    )
    for coupon in Coupon.objects.order_by("code")[:3]:
        used(coupon, times=2)

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"sort": "-redemptions"})

    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 25
    assert "usos: 2" in response.content.decode()


def test_the_detail_shows_the_terms_and_usage(owner_client, merchant):
    coupon = used(
        CouponFactory(
            merchant=merchant,
            code="METADE",
            name="Metade do preço",
            percent_off=Decimal("50"),
            duration="repeating",
            duration_in_months=6,
            max_redemptions=100,
        )
    )

    content = owner_client.get(coupon.get_absolute_url()).content.decode()

    for text in ["METADE", "Metade do preço", "50%", "Por 6 meses", "usos: 1 de 100", "Não expira", "Ativo"]:
        assert text in content
    assert reverse("plans:coupon_deactivate", args=[coupon.pk]) in content


def test_deactivate_through_its_confirmation_page(owner_client, merchant):
    coupon = CouponFactory(merchant=merchant, code="DEZ")
    url = reverse("plans:coupon_deactivate", args=[coupon.pk])

    assert "Desativar o cupom “DEZ”?" in owner_client.get(url).content.decode()
    response = owner_client.post(url, follow=True)

    assert Coupon.objects.get().is_active is False
    content = response.content.decode()
    assert "Cupom desativado." in content
    assert url not in content


def test_deactivating_twice_explains_why(owner_client, merchant):
    coupon = CouponFactory(merchant=merchant, is_active=False)

    response = owner_client.post(reverse("plans:coupon_deactivate", args=[coupon.pk]), follow=True)

    assert "Este cupom já está desativado." in response.content.decode()


@pytest.mark.parametrize("role", ["viewer", "support"])
def test_roles_without_catalog_rights_read_but_cannot_write(request, member_client, merchant, role):
    coupon = CouponFactory(merchant=merchant)
    client = member_client(request.getfixturevalue(role))

    assert 'id="coupon-actions"' not in client.get(coupon.get_absolute_url()).content.decode()
    assert CREATE_URL not in client.get(LIST_URL).content.decode()
    assert client.post(CREATE_URL, form_data()).status_code == 403
    assert client.post(reverse("plans:coupon_deactivate", args=[coupon.pk])).status_code == 403
    assert Coupon.objects.get().is_active is True


def test_the_menu_links_to_coupons(owner_client):
    assert f'href="{LIST_URL}"' in owner_client.get(reverse("plans:plan_list")).content.decode()
