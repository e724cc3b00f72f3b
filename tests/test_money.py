from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core.forms import MoneyField
from core.money import format_money, round_minor, to_major, to_minor


def test_brl_is_formatted_the_brazilian_way():
    assert format_money(123456, "BRL", "pt-br") == "R$\xa01.234,56"


def test_english_keeps_the_real_symbol_with_english_separators():
    assert format_money(123456, "BRL", "en") == "R$1,234.56"


def test_the_active_language_is_used_when_none_is_given():
    with translation.override("pt-br"):
        assert format_money(500) == "R$\xa05,00"


def test_conversions_round_half_up_exactly_once():
    assert to_minor("49.90") == 4990
    assert to_minor(Decimal("0.005")) == 1
    assert to_minor(Decimal("-0.005")) == -1
    assert round_minor(Decimal("2.5")) == 3
    assert to_major(4990) == Decimal("49.90")


@pytest.mark.parametrize("func", [to_minor, to_major, round_minor])
def test_a_float_never_touches_money(func):
    with pytest.raises(TypeError):
        func(49.9)


@pytest.mark.parametrize(
    ("language", "typed", "centavos"),
    [
        ("pt-br", "1.234,56", 123456),
        ("pt-br", "49,90", 4990),
        ("pt-br", "R$ 49,90", 4990),
        ("pt-br", "49.90", 4990),
        ("pt-br", "1.234", 123400),
        ("pt-br", "5", 500),
        ("en", "1,234.56", 123456),
        ("en", "49.90", 4990),
    ],
)
def test_money_field_reads_amounts_the_way_people_type_them(language, typed, centavos):
    with translation.override(language):
        assert MoneyField().clean(typed) == centavos


def test_money_field_refuses_words_with_a_translated_message():
    with translation.override("pt-br"), pytest.raises(ValidationError) as exc:
        MoneyField().clean("quarenta")
    assert "Informe um valor em reais" in exc.value.messages[0]
