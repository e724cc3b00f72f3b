"""The error pages (403, 404, 500 and a refused CSRF check) in the app's layout, in the user's language, each
with a way back. Wired in config/urls.py (handler403/404/500) and settings.CSRF_FAILURE_VIEW."""

import logging

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def back_url(request) -> str:
    """The page the user came from, when it is one of ours (the Referer is only a hint, never trusted)."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def _page(request, *, status: int, heading: str, message: str):
    context = {"status": status, "heading": heading, "message": message, "back_url": back_url(request)}
    return render(request, "errors/error_page.html", context, status=status)


def page_not_found(request, exception=None):
    return _page(
        request,
        status=404,
        heading=_("Página não encontrada"),
        message=_("O endereço não existe, ou o que ele mostrava não está disponível para a sua conta."),
    )


def permission_denied(request, exception=None):
    return _page(
        request,
        status=403,
        heading=_("Acesso não permitido"),
        message=_("Seu papel nesta loja não permite abrir esta página ou fazer esta ação."),
    )


def csrf_failure(request, reason=""):
    # Usually a form left open across a sign-out or a language/merchant switch: sending it again from a
    # freshly loaded page works.
    return _page(
        request,
        status=403,
        heading=_("O formulário expirou"),
        message=_(
            "Não foi possível confirmar que o envio veio desta página (a sessão pode ter mudado). "
            "Volte, recarregue a página e envie de novo."
        ),
    )


def server_error(request):
    """The 500 page does not extend the full layout: its menus read the database, which may be what
    failed. If even this page cannot render, a plain text answer."""
    try:
        html = loader.render_to_string(
            "errors/500.html",
            {
                "heading": _("Algo deu errado"),
                "message": _(
                    "Não conseguimos concluir o pedido. O erro foi registrado; tente de novo em instantes."
                ),
            },
        )
    except Exception:
        logger.exception("The 500 page could not be rendered")
        return HttpResponseServerError(
            _("Algo deu errado. Tente de novo em instantes."), content_type="text/plain; charset=utf-8"
        )
    return HttpResponseServerError(html)
