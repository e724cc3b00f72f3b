"""Request checks that every view would otherwise repeat."""

from django.shortcuts import render
from django.utils.translation import gettext as _


def refusal_response(request, *, status: int, heading: str, message: str, back_url: str = ""):
    """A small pt-BR page saying why a request was refused (400 bad input, 429 too many requests)."""
    return render(
        request,
        "core/request_refused.html",
        {"heading": heading, "message": message, "back_url": back_url},
        status=status,
    )


class RejectNulBytesMiddleware:
    """Answers 400 to a query string holding a NUL byte, before any view reads it.

    PostgreSQL text cannot hold NUL: a `?q=a%00b` reaching a search or an export's recorded filters was
    a 500 (DataError). Forms refuse NUL in their fields already; this covers every other GET parameter,
    on every screen present and future, in one place."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            return refusal_response(
                request,
                status=400,
                heading=_("Pedido inválido"),
                message=_(
                    "O endereço contém caracteres nulos, que não são aceitos. Corrija a busca ou os filtros."
                ),
            )
        return self.get_response(request)
