"""Writes for customers. Every caller (screens, admin, the API, the portal, the Stripe sync, the demo loader)
goes through here."""

import hashlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.models import Merchant
from core.events import EventType
from core.outbox import emit
from subscribers import timeline
from subscribers.actors import actor_data
from subscribers.choices import EventKind
from subscribers.models import (
    ADDRESS_FIELDS,
    EMAIL_TAKEN_CODE,
    EMAIL_TAKEN_MESSAGE,
    Customer,
    SubscriptionEvent,
)
from subscribers.services._common import _timeline_row
from subscribers.validators import (
    normalize_document,
    normalize_email,
    normalize_handle,
    normalize_phone,
    normalize_postal_code,
    normalize_state,
    normalize_text,
)

# What `customer_update` takes (all of it, every time) and `customer_details` returns.
CUSTOMER_EDITABLE_FIELDS = ("name", "email", "handle", "document", "phone", *ADDRESS_FIELDS)
# How a change is named in `customer.updated`'s "changed" and on the timeline: the address is one field.
_CHANGE_KEY = {field: "address" if field in ADDRESS_FIELDS else field for field in CUSTOMER_EDITABLE_FIELDS}


def customer_details(customer: Customer) -> dict:
    """The customer's editable values, as `customer_update` takes them: a caller that changes some fields
    passes `{**customer_details(customer), **changes}`."""
    return {field: getattr(customer, field) for field in CUSTOMER_EDITABLE_FIELDS}


@transaction.atomic
def customer_create(
    *,
    merchant: Merchant,
    name: str,
    email: str,
    handle: str = "",
    document: str = "",
    phone: str = "",
    address_postal_code: str = "",
    address_street: str = "",
    address_number: str = "",
    address_complement: str = "",
    address_district: str = "",
    address_city: str = "",
    address_state: str = "",
) -> Customer:
    """Registers a customer of `merchant`.

    Values are normalized (e-mail lower-cased, handle without "@", CPF/CNPJ digits only, phone in E.164
    "+5511912345678" from "(11) 91234-5678" or "+55 11 91234-5678", CEP as "01310-100", UF upper-cased)
    and checked with `full_clean()` (an address is all blank or has CEP, logradouro, número, cidade and
    UF); a `ValidationError` keyed by field refuses the whole write.
    """
    customer = Customer(merchant=merchant)
    _assign(
        customer,
        name=name,
        email=email,
        handle=handle,
        document=document,
        phone=phone,
        address_postal_code=address_postal_code,
        address_street=address_street,
        address_number=address_number,
        address_complement=address_complement,
        address_district=address_district,
        address_city=address_city,
        address_state=address_state,
    )
    _save_checked(customer)
    return customer


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    actor,
    name: str,
    email: str,
    handle: str,
    document: str,
    phone: str,
    address_postal_code: str,
    address_street: str,
    address_number: str,
    address_complement: str,
    address_district: str,
    address_city: str,
    address_state: str,
) -> Customer:
    """Changes a customer's details, with the same normalization and checks as `customer_create`.

    Every editable field is required, so a caller cannot blank one out by forgetting to pass it (start
    from `customer_details`). `actor` is who asks: a user, a `CustomerActor` (the portal), an
    `ApiKeyActor`, a `ProviderActor` (a provider's sync) or None (the system). When something changed, the
    same transaction writes the outbox's `customer.updated` (which fields changed, never their values, and
    who) and a timeline line on each of the customer's subscriptions; when nothing did, nothing is
    written at all.
    """
    # What is stored, read under the row's lock: `customer` may already carry the new values (a ModelForm
    # writes what was typed onto its instance), and two edits at once must each see the other's result.
    before = Customer.objects.select_for_update().values(*CUSTOMER_EDITABLE_FIELDS).get(pk=customer.pk)
    _assign(
        customer,
        name=name,
        email=email,
        handle=handle,
        document=document,
        phone=phone,
        address_postal_code=address_postal_code,
        address_street=address_street,
        address_number=address_number,
        address_complement=address_complement,
        address_district=address_district,
        address_city=address_city,
        address_state=address_state,
    )
    changed_fields = [
        field for field in CUSTOMER_EDITABLE_FIELDS if getattr(customer, field) != before[field]
    ]
    if not changed_fields:
        return customer
    _save_checked(customer, update_fields=[*changed_fields, "updated_at"])
    _record_update(
        customer, changed=list(dict.fromkeys(_CHANGE_KEY[field] for field in changed_fields)), actor=actor
    )
    return customer


def _record_update(customer: Customer, *, changed: list[str], actor) -> None:
    emit(
        merchant=customer.merchant_id,
        type=EventType.CUSTOMER_UPDATED,
        payload={
            "id": customer.pk,
            "name": customer.name,
            "email": customer.email,
            "changed": changed,
            "actor": actor_data(actor),
            "updated_at": customer.updated_at,
        },
    )
    # One line per subscription, in one INSERT (a customer may have many). Ended ones too: their timeline
    # is still where the merchant looks for what happened to this customer.
    SubscriptionEvent.objects.bulk_create(
        [
            _timeline_row(
                subscription,
                kind=EventKind.CUSTOMER_UPDATED,
                actor=actor,
                reason_code=timeline.CUSTOMER_UPDATED,
                reason_params={"fields": changed},
            )
            for subscription in customer.subscriptions.only("pk", "merchant_id").order_by("pk")
        ]
    )


def _assign(
    customer: Customer,
    *,
    name: str,
    email: str,
    handle: str,
    document: str,
    phone: str,
    address_postal_code: str,
    address_street: str,
    address_number: str,
    address_complement: str,
    address_district: str,
    address_city: str,
    address_state: str,
) -> None:
    customer.name = (name or "").strip()
    customer.email = normalize_email(email)
    customer.handle = normalize_handle(handle)
    customer.document = normalize_document(document)
    customer.phone = normalize_phone(phone)
    customer.address_postal_code = normalize_postal_code(address_postal_code)
    customer.address_street = normalize_text(address_street)
    customer.address_number = normalize_text(address_number)
    customer.address_complement = normalize_text(address_complement)
    customer.address_district = normalize_text(address_district)
    customer.address_city = normalize_text(address_city)
    customer.address_state = normalize_state(address_state)


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
