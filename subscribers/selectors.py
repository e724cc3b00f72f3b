"""Reads of customers for screens and exports."""

from django.db.models import Q, QuerySet

from subscribers.models import Customer
from subscribers.validators import document_digits_or_none, normalize_handle


def customer_list_queryset() -> QuerySet[Customer]:
    """Customers for the list screen (scoped to the merchant by the view); every column is on the row."""
    return Customer.objects.all()


def customer_detail_queryset() -> QuerySet[Customer]:
    """Customers for the detail and edit screens (scoped to the merchant by the view)."""
    return Customer.objects.all()


def customer_search(queryset: QuerySet[Customer], *, query: str) -> QuerySet[Customer]:
    """One search box over name, e-mail, @handle and CPF/CNPJ.

    The handle matches with or without its "@". The CPF/CNPJ matches only when the query is a
    (partial) document — digits with optional "." "-" "/" — compared on digits, since that is how it is
    stored; so "Maria 2" never matches every document containing a 2.
    """
    query = (query or "").strip()
    if not query:
        return queryset
    condition = Q(name__icontains=query) | Q(email__icontains=query)
    handle = normalize_handle(query)
    if handle:
        condition |= Q(handle__icontains=handle)
    digits = document_digits_or_none(query)
    if digits:
        condition |= Q(document__contains=digits)
    return queryset.filter(condition)
