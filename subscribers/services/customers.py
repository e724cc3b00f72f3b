"""Writes for customers. Every caller (screens, admin actions, imports, the demo loader) goes through here."""

import hashlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.models import Merchant
from subscribers.models import EMAIL_TAKEN_CODE, EMAIL_TAKEN_MESSAGE, Customer
from subscribers.validators import normalize_document, normalize_email, normalize_handle, normalize_phone

_EDITABLE_FIELDS = ["name", "email", "handle", "document", "phone"]


@transaction.atomic
def customer_create(
    *,
    merchant: Merchant,
    name: str,
    email: str,
    handle: str = "",
    document: str = "",
    phone: str = "",
) -> Customer:
    """Registers a customer of `merchant`.

    Values are normalized (e-mail lower-cased, handle without "@", CPF/CNPJ digits only, phone in E.164
    "+5511912345678" from "(11) 91234-5678" or "+55 11 91234-5678") and checked
    with `full_clean()`; a `ValidationError` keyed by field refuses the whole write.
    """
    customer = Customer(merchant=merchant)
    _assign(customer, name=name, email=email, handle=handle, document=document, phone=phone)
    _save_checked(customer)
    return customer


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    name: str,
    email: str,
    handle: str,
    document: str,
    phone: str,
) -> Customer:
    """Changes a customer's details, with the same normalization and checks as `customer_create`.

    Every editable field is required, so a caller cannot blank one out by forgetting to pass it.
    """
    _assign(customer, name=name, email=email, handle=handle, document=document, phone=phone)
    _save_checked(customer, update_fields=[*_EDITABLE_FIELDS, "updated_at"])
    return customer


def _assign(customer: Customer, *, name: str, email: str, handle: str, document: str, phone: str) -> None:
    customer.name = (name or "").strip()
    customer.email = normalize_email(email)
    customer.handle = normalize_handle(handle)
    customer.document = normalize_document(document)
    customer.phone = normalize_phone(phone)


def _save_checked(customer: Customer, *, update_fields: list[str] | None = None) -> None:
    customer.full_clean()
    try:
        # A savepoint, so a lost race on the unique e-mail leaves the outer transaction usable.
        with transaction.atomic():
            customer.save(update_fields=update_fields)
    except IntegrityError:
        # full_clean() passed, so another request saved the same e-mail in between: say so on the field.
        clash = Customer.objects.filter(merchant_id=customer.merchant_id, email=customer.email)
        if customer.pk is not None:
            clash = clash.exclude(pk=customer.pk)
        if clash.exists():
            raise ValidationError(
                {"email": ValidationError(EMAIL_TAKEN_MESSAGE, code=EMAIL_TAKEN_CODE)}
            ) from None
        raise


def _serialize_identity(merchant: Merchant, *keys: str) -> None:
    """Makes concurrent sign-ups of the same person in one merchant take turns (PostgreSQL advisory
    locks, released at commit). The e-mail has a unique constraint; the CPF/CNPJ has none (a merchant may
    have legacy duplicates), so without this two checkouts with one CPF and two e-mails could both miss
    and both create. SQLite serialises writers already."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted({key for key in keys if key}):
            digest = hashlib.sha256(f"customer:{merchant.pk}:{key}".encode()).digest()
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)]
            )


@transaction.atomic
def customer_find_or_create(
    *, merchant: Merchant, name: str, email: str, document: str = "", phone: str = ""
) -> Customer:
    """The merchant's customer with this e-mail or CPF/CNPJ, or a new one: never two customers for one
    person (the public checkout, where the person types their own details).

    An existing customer is returned unchanged: details typed on a public page never overwrite a record
    the merchant keeps (anyone can type anyone's e-mail). The caller must not tell the person which case
    happened. The e-mail wins when it and the document point at two different customers."""
    email = normalize_email(email)
    document = normalize_document(document)
    _serialize_identity(merchant, f"e:{email}", f"d:{document}" if document else "")
    customers = Customer.objects.filter(merchant=merchant)
    existing = customers.filter(email=email).first() if email else None
    if existing is None and document:
        existing = customers.filter(document=document).order_by("pk").first()
    if existing is not None:
        return existing
    return customer_create(merchant=merchant, name=name, email=email, document=document, phone=phone)
