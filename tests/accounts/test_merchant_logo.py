"""The merchant's logo (issue 14): upload checks, storage under an unguessable name, display on the public
checkout page and the customer portal, replacement and removal, and tenant isolation of the files."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts import services
from accounts.logos import LOGO_DIR, LOGO_MAX_BYTES, NAME_RE
from accounts.models import Merchant
from tests.factories import CheckoutLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(fmt="PNG", size=(120, 60), color=(200, 30, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def noisy_png(side: int) -> bytes:
    """Random pixels, which PNG cannot compress: a real image of a predictable, large size."""
    bands = [Image.effect_noise((side, side), 100) for _ in range(3)]
    buffer = io.BytesIO()
    Image.merge("RGB", bands).save(buffer, format="PNG")
    return buffer.getvalue()


def noisy_jpeg(side: int) -> bytes:
    bands = [Image.effect_noise((side, side), 100) for _ in range(3)]
    buffer = io.BytesIO()
    Image.merge("RGB", bands).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def upload(content: bytes, name="logo.png", content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def post_logo(client, content, name="logo.png"):
    return client.post(reverse("accounts:logo"), {"logo": upload(content, name)})


@pytest.mark.parametrize(
    ("fmt", "extension", "content_type"),
    [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("WEBP", "webp", "image/webp")],
)
def test_a_raster_logo_is_stored_under_a_random_name_and_served_with_its_type(
    owner_client, merchant, _media, fmt, extension, content_type
):
    content = image_bytes(fmt)

    response = post_logo(owner_client, content, name=f"minha marca.{extension}")

    assert response.status_code == 302
    merchant.refresh_from_db()
    directory, name = merchant.logo.name.split("/")
    assert directory == LOGO_DIR and NAME_RE.fullmatch(name) and name.endswith(f".{extension}")
    assert "marca" not in name  # the uploaded name is not kept: it could say who the merchant is
    assert (_media / merchant.logo.name).read_bytes() == content
    served = owner_client.get(merchant.logo.url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == content
    assert served["Content-Type"] == content_type
    assert "max-age=31536000" in served["Cache-Control"]
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_file_is_public_no_sign_in_needed(client, merchant):
    services.merchant_logo_set(merchant=merchant, upload=upload(image_bytes()))
    assert client.get(merchant.logo.url).status_code == 200


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.svg",
            "SVG não são aceitos",
        ),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
            "logo.png",
            "SVG não são aceitos",
        ),
        (b"<html><script>alert(1)</script></html>", "logo.png", "não é uma imagem PNG, JPEG ou WebP"),
        (image_bytes("GIF"), "logo.gif", "não é uma imagem PNG, JPEG ou WebP"),
        (noisy_png(64)[:3000], "logo.png", "não é uma imagem PNG, JPEG ou WebP"),
        (image_bytes("PNG", size=(2500, 100)), "logo.png", "entre 16 e 2000 pixels"),
        (image_bytes("PNG", size=(10, 10)), "logo.png", "entre 16 e 2000 pixels"),
    ],
    ids=["svg", "svg-named-png", "html", "gif", "truncated", "too-wide", "too-small"],
)
def test_bad_files_are_refused_with_a_message_and_nothing_is_stored(
    owner_client, merchant, _media, content, name, message
):
    response = post_logo(owner_client, content, name=name)

    assert response.status_code == 200
    assert message in response.content.decode()
    merchant.refresh_from_db()
    assert not merchant.logo
    assert not (_media / LOGO_DIR).exists() or not any((_media / LOGO_DIR).iterdir())


def test_a_cut_off_file_is_refused_even_once_weasyprint_relaxed_pillow(owner_client, merchant):
    import weasyprint  # noqa: F401  (sets PIL.ImageFile.LOAD_TRUNCATED_IMAGES for the whole process)
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    content = image_bytes("JPEG", size=(400, 300), color=(10, 200, 30))
    for cut in (noisy_png(64)[:3000], noisy_jpeg(200)[:4000]):
        response = post_logo(owner_client, cut)
        assert "não é uma imagem PNG, JPEG ou WebP" in response.content.decode()
    assert ImageFile.LOAD_TRUNCATED_IMAGES  # left as weasyprint wants it
    assert post_logo(owner_client, content).status_code == 302


def test_a_file_over_the_size_limit_is_refused(owner_client, merchant):
    content = noisy_png(600)
    assert len(content) > LOGO_MAX_BYTES

    response = post_logo(owner_client, content)

    assert "no máximo 512 KB" in response.content.decode()
    merchant.refresh_from_db()
    assert not merchant.logo


def test_the_service_checks_the_file_too(merchant):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.merchant_logo_set(merchant=merchant, upload=upload(b"<svg/>", "x.svg"))
    assert refused.value.code == "logo_svg"


def test_the_checkout_page_and_the_portal_show_the_logo(client, merchant):
    link = CheckoutLinkFactory(merchant=merchant)
    page = reverse("checkout:page", args=[link.slug])
    portal = reverse("portal:login", kwargs={"slug": merchant.slug})
    assert 'id="checkout-logo"' not in client.get(page).content.decode()
    assert 'id="portal-logo"' not in client.get(portal).content.decode()

    services.merchant_logo_set(merchant=merchant, upload=upload(image_bytes()))

    html = client.get(page).content.decode()
    src = re.search(r'id="checkout-logo" src="([^"]+)"', html).group(1)
    assert src == merchant.logo.url
    assert client.get(src).status_code == 200
    assert f'src="{merchant.logo.url}"' in client.get(portal).content.decode()


def test_replacing_deletes_the_old_file_and_its_address_stops_working(
    owner_client, merchant, _media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_logo(owner_client, image_bytes(color=(1, 2, 3)))
    merchant.refresh_from_db()
    first_name, first_url = merchant.logo.name, merchant.logo.url

    with django_capture_on_commit_callbacks(execute=True):
        post_logo(owner_client, image_bytes(color=(4, 5, 6)))
    merchant.refresh_from_db()

    assert merchant.logo.name != first_name
    assert not (_media / first_name).exists()
    assert owner_client.get(first_url).status_code == 404
    assert owner_client.get(merchant.logo.url).status_code == 200


def test_removing_the_logo(owner_client, merchant, _media, django_capture_on_commit_callbacks):
    services.merchant_logo_set(merchant=merchant, upload=upload(image_bytes()))
    merchant.refresh_from_db()
    stored, url = merchant.logo.name, merchant.logo.url
    link = CheckoutLinkFactory(merchant=merchant)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("accounts:logo_remove"))

    assert response.status_code == 302
    merchant.refresh_from_db()
    assert not merchant.logo
    assert not (_media / stored).exists()
    assert owner_client.get(url).status_code == 404
    assert (
        'id="checkout-logo"'
        not in owner_client.get(reverse("checkout:page", args=[link.slug])).content.decode()
    )


def test_viewers_and_support_cannot_change_the_logo(member_client, merchant, viewer, support):
    for user in (viewer, support):
        client = member_client(user)
        assert client.get(reverse("accounts:logo")).status_code == 200
        assert post_logo(client, image_bytes()).status_code == 403
        assert client.post(reverse("accounts:logo_remove")).status_code == 403
    merchant.refresh_from_db()
    assert not merchant.logo


def test_each_merchant_changes_only_its_own_logo(member_client, merchant, other_merchant, manager):
    services.merchant_logo_set(merchant=other_merchant, upload=upload(image_bytes()))
    other_merchant.refresh_from_db()
    theirs = other_merchant.logo.name
    client = member_client(manager)

    post_logo(client, image_bytes(color=(9, 9, 9)))
    client.post(reverse("accounts:logo_remove"))

    other_merchant.refresh_from_db()
    assert other_merchant.logo.name == theirs
    assert client.get(other_merchant.logo.url).status_code == 200  # public, like the page that shows it


def test_logo_addresses_cannot_be_guessed_or_walked(client, merchant, other_merchant, _media):
    services.merchant_logo_set(merchant=merchant, upload=upload(image_bytes()))
    services.merchant_logo_set(merchant=other_merchant, upload=upload(image_bytes()))
    mine = Merchant.objects.get(pk=merchant.pk).logo.name.split("/")[1]
    theirs = Merchant.objects.get(pk=other_merchant.pk).logo.name.split("/")[1]
    # Random names: nothing in one merchant's address leads to another's.
    assert mine[:22] != theirs[:22] and str(merchant.pk) not in mine
    # A file in the storage that is no merchant's current logo is not served, nor anything outside it.
    (_media / LOGO_DIR / "AAAAAAAAAAAAAAAAAAAAAA.png").write_bytes(image_bytes())
    for name in ("AAAAAAAAAAAAAAAAAAAAAA.png", "..%2F..%2Fsettings.py", "x.svg", mine.replace(".", "-")):
        assert client.get(f"/midia/{LOGO_DIR}/{name}").status_code == 404


def test_customer_emails_show_the_logo_by_its_full_address(settings, merchant):
    from notifications.emails.choices import CustomerEmailKind
    from notifications.emails.services.customer_emails import render_customer_email
    from tests.factories import SubscriptionFactory

    settings.PUBLIC_URL = "https://app.example.com/"
    subscription = SubscriptionFactory(merchant=merchant)
    kind = CustomerEmailKind.SUBSCRIPTION_CREATED
    _subject, _text, html = render_customer_email(merchant=merchant, kind=kind, subscription=subscription)
    assert "<img" not in html

    services.merchant_logo_set(merchant=merchant, upload=upload(image_bytes()))

    _subject, _text, html = render_customer_email(merchant=merchant, kind=kind, subscription=subscription)
    assert f'<img src="https://app.example.com{merchant.logo.url}"' in html
