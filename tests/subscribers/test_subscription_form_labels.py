"""The contract and edit forms name each field once: the "Desconto" box's legend is not repeated as the
label of its first field (a new user read "Desconto" twice on Nova assinatura)."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from tests.factories import PlanFactory, SubscriptionFactory


def _visible_texts(html: str) -> list[str]:
    """The text of every <label> and <legend> of the page's form, whitespace collapsed."""
    form = html[html.index('id="subscription-form"') :]
    texts = re.findall(r"<(?:label|legend)\b[^>]*>(.*?)</(?:label|legend)>", form, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip() for text in texts]


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_nova_assinatura_says_desconto_once(owner_client, merchant, language):
    PlanFactory(merchant=merchant)
    with translation.override(language):
        response = owner_client.get(reverse("subscribers:subscription_create"), HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    texts = _visible_texts(response.content.decode())
    word = "Desconto" if language == "pt-br" else "Discount"
    assert texts.count(word) == 1, texts
    assert len(texts) == len(set(texts)), texts  # no other field named twice either


def test_editing_a_subscription_says_desconto_once(owner_client, merchant):
    subscription = SubscriptionFactory(merchant=merchant)

    response = owner_client.get(reverse("subscribers:subscription_update", args=[subscription.pk]))

    assert response.status_code == 200
    texts = _visible_texts(response.content.decode())
    assert texts.count("Desconto") == 1, texts
