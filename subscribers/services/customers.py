"""Writes for customers. Every caller (screens, admin actions, imports, the demo loader) goes through here."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

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
