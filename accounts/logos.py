"""The merchant's logo (Configurações > Logotipo): what a file must be to be accepted, and where it is kept.

Raster only — PNG, JPEG or WebP, opened and fully decoded with Pillow, so what is stored is an image and
nothing else. SVG is refused: it is a document that can carry scripts and links, and it would be served
from our own origin. The stored name is random (`logos/<22 random characters>.<ext>`): the address
of one merchant's logo says nothing about any other's, and a new upload gets a new name, so the file
can be cached for a year. Files go through Django's default storage (docs/operations.md, *Uploaded files*).
"""

import re
import secrets
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFile, UnidentifiedImageError

LOGO_DIR = "logos"
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_SIDE = 2000
LOGO_MIN_SIDE = 16
# Pillow's format name → the stored file's extension; the extension decides the Content-Type served.
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
# A stored logo's name inside LOGO_DIR: what the serving view accepts before it asks the database.
NAME_RE = re.compile(r"[A-Za-z0-9_-]{22}\.(png|jpg|webp)")
ACCEPT = "image/png,image/jpeg,image/webp"


def logo_absolute_url(merchant) -> str:
    """The logo's full address for places with no request (e-mails): PUBLIC_URL + its path, or the
    storage's own absolute URL; "" without a logo or without PUBLIC_URL."""
    from django.conf import settings

    if not merchant.logo:
        return ""
    url = merchant.logo.url
    if url.startswith(("https://", "http://")):
        return url
    base = (settings.PUBLIC_URL or "").rstrip("/")
    return f"{base}{url}" if base else ""


def logo_upload_to(instance, filename: str) -> str:
    """A fresh unguessable name; `filename` only brings the extension `inspect_logo` chose."""
    extension = filename.rsplit(".", 1)[-1]
    if extension not in CONTENT_TYPES:
        raise ValueError(f"not a logo extension: {filename!r}")
    return f"{LOGO_DIR}/{secrets.token_urlsafe(16)}.{extension}"


@contextmanager
def _truncated_images_refused():
    """weasyprint (invoice PDFs) sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import, which makes a
    cut-off file decode without error (grey where the data ends). The check wants the error: the flag is
    off while it decodes and back as it was after (it is only read while an image decodes; web workers
    handle one request at a time)."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def inspect_logo(upload) -> str:
    """The extension to store `upload` under, or ValidationError (pt-BR) saying what is wrong with it."""
    if upload.size > LOGO_MAX_BYTES:
        raise ValidationError(
            _("O logotipo pode ter no máximo %(limit)s KB; este tem %(size)s KB."),
            code="logo_too_big",
            params={"limit": LOGO_MAX_BYTES // 1024, "size": -(-upload.size // 1024)},
        )
    upload.seek(0)
    head = upload.read(512).lstrip().lower()
    upload.seek(0)
    if (upload.name or "").lower().endswith((".svg", ".svgz")) or head.startswith((b"<?xml", b"<svg")):
        raise ValidationError(
            _("Logotipos em SVG não são aceitos (podem conter scripts). Envie PNG, JPEG ou WebP."),
            code="logo_svg",
        )
    not_an_image = ValidationError(
        _("O arquivo não é uma imagem PNG, JPEG ou WebP válida."), code="logo_not_image"
    )
    try:
        with _truncated_images_refused(), Image.open(upload, formats=list(FORMATS)) as image:
            width, height = image.size
            if max(width, height) > LOGO_MAX_SIDE or min(width, height) < LOGO_MIN_SIDE:
                raise ValidationError(
                    _(
                        "O logotipo deve ter entre %(min)s e %(max)s pixels de largura e de altura; "
                        "este tem %(width)s × %(height)s."
                    ),
                    code="logo_dimensions",
                    params={"min": LOGO_MIN_SIDE, "max": LOGO_MAX_SIDE, "width": width, "height": height},
                )
            extension = FORMATS[image.format]
            # Decodes every pixel: a truncated or corrupt file fails here rather than in a browser.
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise not_an_image from None
    finally:
        upload.seek(0)
    return extension
