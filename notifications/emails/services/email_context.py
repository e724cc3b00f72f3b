"""What a customer e-mail template may see, and the restricted engine that renders it.

Merchants edit these templates, so they are rendered with a separate Django template engine that has no
template loaders and no tag libraries, from a context made only of plain strings, numbers, lists and
dicts, already formatted in pt-BR (dates dd/mm/aaaa in the merchant's timezone, money "R$ 1.234,56").
A template therefore cannot reach a model, the ORM or the settings: `{{ cliente.merchant }}` is just
empty. Only a short list of tags and filters is accepted (`ALLOWED_TAGS`, `ALLOWED_FILTERS`, the engine's
only builtins: see email_library.py); anything else is refused when the template is saved, with a message
in pt-BR. Rendering is bounded too (MAX_RENDER_SECONDS, MAX_OUTPUT_CHARS), in the preview and when the
worker sends, so a template saved before a rule existed cannot stall a worker either.
"""

import datetime as dt
import re
import time

from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import Lexer, TokenType
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.logos import logo_absolute_url
from core.money import format_money
from notifications.emails.choices import CustomerEmailKind
from notifications.emails.services import email_library
from subscribers.portal.links import portal_url

# if/with/firstof and comments are enough for conditional paragraphs; include, extends, load, debug, url,
# csrf_token, now… reach files, code or server details, and `for` let a template loop over long strings
# (nested, 29.5 s per render) while the context holds nothing to loop over. End tags are listed so the
# check below can name the one tag that is refused.
ALLOWED_TAGS = frozenset(
    {
        *email_library.ALLOWED_TAGS,
        "elif",
        "else",
        "endif",
        "endwith",
        "endcomment",
        "endspaceless",
    }
)
ALLOWED_FILTERS = frozenset(email_library.ALLOWED_FILTERS)

MAX_TEMPLATE_CHARS = 50_000
# Blocks inside blocks: a few levels are plenty for an e-mail; thousands overflowed Python's stack.
MAX_NESTING = 10
# Filters on one value ("x|default:'-'|lower|truncatewords:3"): bounds what repeated escaping can grow.
MAX_FILTERS = 4
_BLOCK_ENDS = {"endif": "if", "endwith": "with", "endcomment": "comment", "endspaceless": "spaceless"}
# A customer e-mail is a few kilobytes; the cap is for what a template could make of long values.
MAX_OUTPUT_CHARS = 200_000
# Checked at every variable lookup while rendering, in the web preview and in the worker alike.
MAX_RENDER_SECONDS = 2.0


class TemplateLimitExceeded(TemplateSyntaxError):
    """A merchant template went past the render time or output size cap (shown like a syntax error)."""


class _MerchantEngine(Engine):
    # Not Django's builtins (every tag and filter) but only the whitelist of email_library.
    default_builtins = ["notifications.emails.services.email_library"]


class _BudgetContext(Context):
    """A Context that stops the render once its deadline has passed (checked on every lookup)."""

    def __init__(self, *args, deadline: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def __getitem__(self, key):
        if time.monotonic() > self.deadline:
            raise TemplateLimitExceeded(_render_too_slow_message())
        return super().__getitem__(key)


def _render_too_slow_message() -> str:
    return _("O modelo demorou demais para ser gerado (limite de %(seconds)s s). Simplifique-o.") % {
        "seconds": f"{MAX_RENDER_SECONDS:g}".replace(".", ",")
    }


_HTML_ENGINE = _MerchantEngine(dirs=[], app_dirs=False, libraries={}, autoescape=True, string_if_invalid="")
_TEXT_ENGINE = _MerchantEngine(dirs=[], app_dirs=False, libraries={}, autoescape=False, string_if_invalid="")
# Quoted strings are skipped when looking for filters: `{{ x|default:"a|b" }}` uses only `default`.
_QUOTED = re.compile(r""""[^"\\]*(?:\\.[^"\\]*)*"|'[^'\\]*(?:\\.[^'\\]*)*'""")
_FILTER_NAME = re.compile(r"\|\s*([A-Za-z_][A-Za-z0-9_]*)")

# Documented on the edit page: (variable, what it holds, sample value).
VARIABLES = [
    ("cliente.nome", gettext_lazy("Nome completo do cliente"), "Ana Souza"),
    ("cliente.primeiro_nome", gettext_lazy("Primeiro nome"), "Ana"),
    ("cliente.email", gettext_lazy("E-mail do cliente"), "ana.souza@example.com"),
    ("loja.nome", gettext_lazy("Nome da sua loja"), "The Pacific"),
    ("loja.email", gettext_lazy("E-mail de resposta (Configurações dos e-mails)"), "suporte@example.com"),
    ("link", gettext_lazy("Link de acesso (Configurações dos e-mails)"), "https://example.com/minha-conta"),
    (
        "portal",
        gettext_lazy("Link “Gerenciar assinatura” (Minha assinatura: faturas, cartão, plano, cancelamento)"),
        "https://example.com/portal/sua-loja/",
    ),
    ("assinatura.numero", gettext_lazy("Número da assinatura"), "1042"),
    ("assinatura.plano", gettext_lazy("Nome do plano"), "Clube Mensal"),
    ("assinatura.valor", gettext_lazy("Valor por período"), "R$ 1.234,56"),
    ("assinatura.periodicidade", gettext_lazy("Periodicidade do plano"), "Mensal"),
    ("assinatura.forma_pagamento", gettext_lazy("Forma de pagamento"), "Cartão de crédito"),
    ("assinatura.cartao", gettext_lazy("Cartão (bandeira e final)"), "Visa final 4242"),
    ("assinatura.data_contratacao", gettext_lazy("Data de contratação"), "10/02/2026"),
    ("assinatura.proxima_cobranca", gettext_lazy("Data da próxima cobrança"), "10/03/2026"),
    ("assinatura.fim_teste", gettext_lazy("Último dia do período de teste"), "17/02/2026"),
    ("assinatura.acesso_ate", gettext_lazy("Acesso garantido até (cancelamento)"), "10/03/2026"),
    ("fatura.numero", gettext_lazy("Número da fatura"), "58"),
    ("fatura.valor", gettext_lazy("Valor da fatura"), "R$ 1.234,56"),
    ("fatura.vencimento", gettext_lazy("Vencimento da fatura, boleto ou pix"), "13/02/2026"),
    ("pagamento.forma", gettext_lazy("Forma de pagamento da cobrança"), "Boleto"),
    ("pagamento.linha_digitavel", gettext_lazy("Linha digitável do boleto"), "99990.00001 …"),
    ("pagamento.pix_copia_e_cola", gettext_lazy("Código Pix copia e cola"), "00020101…"),
    (
        "pagamento.motivo_recusa",
        gettext_lazy("Por que o pagamento foi recusado"),
        "Cartão recusado pelo emissor.",
    ),
    ("pagamento.proxima_tentativa", gettext_lazy("Data da próxima tentativa de cobrança"), "11/02/2026"),
    (
        "pagamento.o_que_acontece",
        gettext_lazy("O que acontece agora (nova tentativa ou fim da assinatura)"),
        "…",
    ),
    ("reembolso.valor", gettext_lazy("Valor reembolsado"), "R$ 1.234,56"),
    ("reembolso.motivo", gettext_lazy("Motivo do reembolso"), "Pedido do cliente"),
    ("reembolso.data", gettext_lazy("Data do reembolso"), "12/02/2026"),
    ("lembrete.dias", gettext_lazy("Dias até a próxima cobrança (lembrete)"), "3"),
]


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def check_template(source: str) -> None:
    """Raises TemplateSyntaxError (with a pt-BR message) for a template a merchant may not save."""
    if len(source or "") > MAX_TEMPLATE_CHARS:
        raise TemplateSyntaxError(
            _("O modelo passou de %(limit)s caracteres.") % {"limit": _number(MAX_TEMPLATE_CHARS)}
        )
    depth = 0
    for token in Lexer(source or "").tokenize():
        if token.token_type == TokenType.BLOCK:
            name = (token.split_contents() or [""])[0]
            if name not in ALLOWED_TAGS:
                raise TemplateSyntaxError(
                    _("A tag {%% %(tag)s %%} não é permitida nos e-mails. Use apenas: %(allowed)s.")
                    % {"tag": name, "allowed": "if, with, comment, firstof, spaceless"}
                )
            if name in _BLOCK_ENDS.values():
                depth += 1
            elif name in _BLOCK_ENDS:
                depth -= 1
            if depth > MAX_NESTING:
                raise TemplateSyntaxError(
                    _("Use no máximo %(depth)s blocos ({%% if %%}, {%% with %%}…) um dentro do outro.")
                    % {"depth": MAX_NESTING}
                )
        if token.token_type in (TokenType.BLOCK, TokenType.VAR):
            names = _FILTER_NAME.findall(_QUOTED.sub('""', token.contents))
            for name in names:
                if name not in ALLOWED_FILTERS:
                    raise TemplateSyntaxError(
                        _("O filtro |%(filter)s não é permitido nos e-mails. Use apenas: %(allowed)s.")
                        % {"filter": name, "allowed": ", ".join(sorted(ALLOWED_FILTERS))}
                    )
            if len(names) > MAX_FILTERS and token.token_type == TokenType.VAR:
                raise TemplateSyntaxError(
                    _("Use no máximo %(count)s filtros em uma variável.") % {"count": MAX_FILTERS}
                )
    try:
        _TEXT_ENGINE.from_string(source or "")
    except RecursionError as exc:
        raise TemplateSyntaxError(
            _("Use no máximo %(depth)s blocos ({%% if %%}, {%% with %%}…) um dentro do outro.")
            % {"depth": MAX_NESTING}
        ) from exc
    except TemplateSyntaxError as exc:
        raise TemplateSyntaxError(_("Erro de sintaxe no modelo: %(error)s") % {"error": exc}) from exc


def render_string(source: str, context: dict, *, html: bool) -> str:
    """Renders merchant-editable `source` with the restricted engine (checked first), within the time and
    size caps: TemplateLimitExceeded (a TemplateSyntaxError, with a pt-BR message) past either."""
    check_template(source)
    engine = _HTML_ENGINE if html else _TEXT_ENGINE
    template = engine.from_string(source or "")
    budget = _BudgetContext(plain(context), autoescape=html, deadline=time.monotonic() + MAX_RENDER_SECONDS)
    try:
        output = template.render(budget)
    except RecursionError as exc:  # the nesting check makes this unreachable; the cap stays a cap
        raise TemplateLimitExceeded(_render_too_slow_message()) from exc
    if time.monotonic() > budget.deadline:
        raise TemplateLimitExceeded(_render_too_slow_message())
    if len(output) > MAX_OUTPUT_CHARS:
        raise TemplateLimitExceeded(
            _("O e-mail gerado passou de %(limit)s caracteres. Encurte o modelo.")
            % {"limit": _number(MAX_OUTPUT_CHARS)}
        )
    return output


def plain(value):
    """`value` reduced to what templates may see: strings, numbers, booleans, lists and dicts."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


# --- formatting ----------------------------------------------------------------------------------------
def format_date(value, tz) -> str:
    """dd/mm/aaaa on the merchant's clock ("" for nothing)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(tz).date()
    return value.strftime("%d/%m/%Y")


def money(minor, currency) -> str:
    return format_money(minor, currency or "BRL", language="pt-br") if minor is not None else ""


# --- the context -----------------------------------------------------------------------------------
def base_context(*, merchant, subscription, email_settings) -> dict:
    """cliente, loja, link and assinatura for one subscription, every value a formatted string."""
    tz = merchant.tzinfo
    customer = subscription.customer
    with translation.override("pt-br"):
        card = ""
        if subscription.card_last4:
            card = _("%(brand)s final %(last4)s") % {
                "brand": subscription.card_brand or _("Cartão"),
                "last4": subscription.card_last4,
            }
        return {
            "cliente": {
                "nome": customer.name,
                "primeiro_nome": (customer.name or "").split(" ")[0],
                "email": customer.email,
            },
            "loja": {
                "nome": merchant.name,
                "email": email_settings.reply_to,
                "logo": logo_absolute_url(merchant),
            },
            "link": email_settings.access_url,
            "portal": portal_url(merchant),
            "assinatura": {
                "numero": str(subscription.pk),
                "plano": subscription.plan.name,
                "valor": money(subscription.amount, subscription.currency),
                "periodicidade": str(subscription.plan.interval_label),
                "situacao": str(subscription.get_status_display()),
                "forma_pagamento": str(subscription.get_payment_method_display()),
                "cartao": card,
                "data_contratacao": format_date(subscription.contract_date, tz),
                "proxima_cobranca": format_date(subscription.next_charge_at, tz),
                "fim_teste": format_date(_trial_last_day(subscription.trial_ends_at, tz), tz),
                "acesso_ate": format_date(subscription.access_until, tz),
            },
        }


def _trial_last_day(trial_ends_at, tz):
    """The trial's last full day: a trial ending at midnight ended the day before."""
    if trial_ends_at is None:
        return None
    local = trial_ends_at.astimezone(tz)
    day = local.date()
    return day - dt.timedelta(days=1) if local.time() == dt.time.min else day


def sample_context(*, merchant, email_settings) -> dict:
    """The preview's made-up customer and subscription (every group filled, so every paragraph shows)."""
    today = merchant.localdate()
    tz = merchant.tzinfo
    d = lambda days: format_date(today + dt.timedelta(days=days), tz)  # noqa: E731
    value = money(4990, merchant.currency)
    with translation.override("pt-br"):
        return {
            "cliente": {"nome": "Ana Souza", "primeiro_nome": "Ana", "email": "ana.souza@example.com"},
            "loja": {
                "nome": merchant.name,
                "email": email_settings.reply_to,
                "logo": logo_absolute_url(merchant),
            },
            "link": email_settings.access_url,
            "portal": portal_url(merchant),
            "assinatura": {
                "numero": "1042",
                "plano": "Clube Mensal",
                "valor": value,
                "periodicidade": "Mensal",
                "situacao": "Ativa",
                "forma_pagamento": "Cartão de crédito",
                "cartao": "Visa final 4242",
                "data_contratacao": d(-27),
                "proxima_cobranca": d(3),
                "fim_teste": d(2),
                "acesso_ate": d(3),
            },
            "fatura": {"numero": "58", "valor": value, "vencimento": d(3)},
            "pagamento": {
                "forma": "Boleto",
                "valor": value,
                "linha_digitavel": "99990.00001 00000.000000 00000.000000 1 00000000004990",
                "pix_copia_e_cola": "",
                "motivo_recusa": "Cartão recusado pelo emissor.",
                "proxima_tentativa": d(1),
                "o_que_acontece": _("Vamos tentar cobrar novamente em %(date)s.") % {"date": d(1)},
            },
            "reembolso": {"valor": value, "motivo": "Pedido do cliente", "data": d(0)},
            "lembrete": {"dias": str(email_settings.renewal_reminder_days)},
            "reajuste": {
                "valor_atual": value,
                "novo_valor": money(5990, merchant.currency),
                "a_partir_de": d(33),
            },
        }


KIND_HINTS = {
    CustomerEmailKind.SUBSCRIPTION_CREATED: gettext_lazy(
        "Quando uma assinatura é contratada com “Avisar o cliente” marcado."
    ),
    CustomerEmailKind.TRIAL_ENDING: gettext_lazy("3 dias antes do fim do período de teste."),
    CustomerEmailKind.PAYMENT_FAILED: gettext_lazy(
        "Quando uma cobrança é recusada (ou um boleto/pix vence), com a próxima tentativa ou o fim da "
        "assinatura."
    ),
    CustomerEmailKind.RENEWAL_REMINDER: gettext_lazy(
        "N dias antes da próxima cobrança de uma assinatura ativa."
    ),
    CustomerEmailKind.PAYMENT_INSTRUCTIONS: gettext_lazy(
        "Quando uma fatura de boleto ou pix é emitida, com a linha digitável ou o código pix."
    ),
    CustomerEmailKind.SUBSCRIPTION_CANCELED: gettext_lazy(
        "Quando a assinatura é cancelada, com a data até quando há acesso."
    ),
    CustomerEmailKind.REFUND_ISSUED: gettext_lazy(
        "Quando um pagamento é reembolsado, total ou parcialmente."
    ),
    CustomerEmailKind.ACCESS_RESENT: gettext_lazy("Quando o acesso é devolvido com “Readicionar”."),
    CustomerEmailKind.PRICE_CHANGE: gettext_lazy(
        "Quando o preço do plano muda e a assinatura é migrada (Planos > Alterar preço), com o valor atual, "
        "o novo e a data da primeira renovação com o novo valor."
    ),
}
