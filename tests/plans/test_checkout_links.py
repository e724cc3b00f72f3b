"""Planos > Links de pagamento: the merchant's screens (create, edit, activate, QR code, conversions) and
the checkout-link services. The public page is tested in tests/billing/test_checkout.py."""

import io
import re

import pytest
import segno
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from plans.choices import CheckoutLinkStatus
from plans.models import CheckoutLink
from plans.services import (
    checkout_link_complete,
    checkout_link_count,
    checkout_link_create,
    checkout_link_update,
)
from tests.factories import CheckoutLinkFactory, CouponFactory, PlanFactory


def form_data(for_plan, **overrides):
    data = {
        "plan": for_plan.pk,
        "name": "Black Friday",
        "coupon": "",
        "allow_card": "on",
        "allow_boleto": "on",
        "allow_pix": "",
        "max_completions": "100",
        "expires_at": "",
        "success_url": "https://loja.example.com/obrigado",
        "brand_color": "#112233",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_a_manager_creates_a_link_and_sees_its_address_and_qr(member_client, manager, merchant):
    plan = PlanFactory(merchant=merchant, name="Clube")
    client = member_client(manager)

    response = client.post(reverse("plans:checkoutlink_create"), form_data(plan))

    link = CheckoutLink.objects.get()
    assert response.status_code == 302 and response.url == link.get_absolute_url()
    assert (link.allow_card, link.allow_boleto, link.allow_pix) == (True, True, False)
    assert link.max_completions == 100 and link.brand_color == "#112233"
    page = client.get(link.get_absolute_url()).content.decode()
    assert f"/c/{link.slug}/" in page
    assert 'data-copy-from="checkoutlink-url"' in page
    assert reverse("plans:checkoutlink_qr_svg", args=[link.pk]) in page


def test_slugs_are_unguessable_and_unique(merchant):
    links = CheckoutLinkFactory.create_batch(5, merchant=merchant)

    slugs = {link.slug for link in links}
    assert len(slugs) == 5
    assert all(len(slug) >= 16 and not slug.isdigit() for slug in slugs)


def test_the_qr_code_is_a_png_and_an_svg_of_the_public_address(owner_client, merchant):
    link = CheckoutLinkFactory(merchant=merchant)

    png = owner_client.get(reverse("plans:checkoutlink_qr_png", args=[link.pk]))
    svg = owner_client.get(reverse("plans:checkoutlink_qr_svg", args=[link.pk]) + "?download=1")

    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert "attachment" in svg["Content-Disposition"]


def test_the_qr_code_encodes_the_public_address(owner_client, merchant):
    link = CheckoutLinkFactory(merchant=merchant)

    svg = owner_client.get(reverse("plans:checkoutlink_qr_svg", args=[link.pk])).content
    expected = segno.make(f"http://testserver/c/{link.slug}/", error="m")
    buffer = io.BytesIO()
    expected.save(buffer, kind="svg", scale=8, border=2, xmldecl=False)
    assert svg == buffer.getvalue()


def test_a_viewer_sees_links_but_cannot_create_or_switch_them(member_client, viewer, merchant):
    link = CheckoutLinkFactory(merchant=merchant)
    client = member_client(viewer)

    assert client.get(reverse("plans:checkoutlink_list")).status_code == 200
    assert client.get(link.get_absolute_url()).status_code == 200
    assert client.get(reverse("plans:checkoutlink_create")).status_code == 403
    assert client.post(reverse("plans:checkoutlink_deactivate", args=[link.pk])).status_code == 403


def test_deactivate_and_activate(owner_client, merchant):
    link = CheckoutLinkFactory(merchant=merchant)

    owner_client.post(reverse("plans:checkoutlink_deactivate", args=[link.pk]))
    link.refresh_from_db()
    assert not link.is_active
    assert link.status(now=timezone.now()) == CheckoutLinkStatus.INACTIVE
    owner_client.post(reverse("plans:checkoutlink_activate", args=[link.pk]))
    link.refresh_from_db()
    assert link.is_active


def test_editing_keeps_the_slug_and_the_counts(owner_client, merchant):
    link = CheckoutLinkFactory(merchant=merchant, visits=7, completed=2)
    slug = link.slug

    response = owner_client.post(
        reverse("plans:checkoutlink_update", args=[link.pk]), form_data(link.plan, name="Novo nome")
    )

    link.refresh_from_db()
    assert response.status_code == 302
    assert (link.slug, link.visits, link.completed, link.name) == (slug, 7, 2, "Novo nome")


def test_the_form_offers_only_this_merchants_plans_and_coupons(owner_client, merchant, other_merchant):
    theirs = PlanFactory(merchant=other_merchant)
    their_coupon = CouponFactory(merchant=other_merchant)
    mine = PlanFactory(merchant=merchant)

    response = owner_client.post(
        reverse("plans:checkoutlink_create"), form_data(mine, plan=theirs.pk, coupon=their_coupon.pk)
    )

    assert response.status_code == 200
    assert not CheckoutLink.objects.exists()
    assert set(response.context["form"].errors) == {"plan", "coupon"}


def test_a_link_needs_a_payment_method(owner_client, merchant):
    plan = PlanFactory(merchant=merchant)

    response = owner_client.post(
        reverse("plans:checkoutlink_create"), form_data(plan, allow_card="", allow_boleto="", allow_pix="")
    )

    assert response.status_code == 200
    assert "Escolha ao menos uma forma de pagamento" in response.content.decode()
    assert not CheckoutLink.objects.exists()


def test_a_bad_colour_is_refused(merchant):
    with pytest.raises(ValidationError):
        checkout_link_create(merchant=merchant, plan=PlanFactory(merchant=merchant), brand_color="red")


def test_an_archived_plan_cannot_get_a_link(merchant):
    plan = PlanFactory(merchant=merchant, archived_at=timezone.now())

    with pytest.raises(ValidationError) as refused:
        checkout_link_create(merchant=merchant, plan=plan)
    assert "plan" in refused.value.message_dict


def test_a_plan_of_another_merchant_is_refused_by_the_service(merchant, other_merchant):
    link = CheckoutLinkFactory(merchant=merchant)

    with pytest.raises(ValidationError):
        checkout_link_update(link=link, plan=PlanFactory(merchant=other_merchant))


def test_the_list_shows_conversions_with_a_fixed_number_of_queries(
    owner_client, merchant, django_assert_max_num_queries
):
    for n in range(30):
        CheckoutLinkFactory(
            merchant=merchant, visits=n, started=n, completed=n, coupon=CouponFactory(merchant=merchant)
        )

    with django_assert_max_num_queries(12):
        response = owner_client.get(reverse("plans:checkoutlink_list"))

    assert response.status_code == 200
    assert re.search(r">\s*29\s*<", response.content.decode())


def test_counts_add_up_and_the_limit_closes_the_link(merchant):
    link = CheckoutLinkFactory(merchant=merchant, max_completions=2)
    now = timezone.now()

    checkout_link_count(link_id=link.pk, counter="visits")
    checkout_link_count(link_id=link.pk, counter="visits")
    checkout_link_count(link_id=link.pk, counter="started")
    checkout_link_complete(link_id=link.pk, now=now)
    checkout_link_complete(link_id=link.pk, now=now)
    with pytest.raises(ValidationError):
        checkout_link_complete(link_id=link.pk, now=now)

    link.refresh_from_db()
    assert (link.visits, link.started, link.completed) == (2, 1, 2)
    assert link.status(now=now) == CheckoutLinkStatus.CLOSED
    with pytest.raises(ValueError):
        checkout_link_count(link_id=link.pk, counter="deleted")
