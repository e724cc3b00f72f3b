"""The event types Recorrente emits, as receivers see them: Notificações > Eventos documents this list.

The types themselves are one enum, `core.events.EventType`; this catalogue gives each of them its
description and sample payload (tests/notifications/test_catalog.py keeps the two equal and greps the code's
`emit(type=…)` calls); the samples are what the payload helpers produce, with made-up values.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from core.events import EventType

# The envelope every delivery carries ({"version", "type", "timestamp", "data"}); bumped only for a change
# receivers would have to adapt to (a field renamed or removed), never for a field added.
ENVELOPE_VERSION = 1
TEST_EVENT_TYPE = EventType.WEBHOOK_TEST


@dataclass(frozen=True)
class CatalogEntry:
    type: EventType
    description: str
    sample: dict


_SUBSCRIPTION = {
    "id": 1042,
    "status": "active",
    "customer": {"id": 311, "email": "ana.souza@example.com", "name": "Ana Souza"},
    "plan": {"id": 7, "name": "Clube Mensal"},
    "quantity": 1,
    "amount": 4990,
    "currency": "BRL",
    "payment_method": "card",
    "current_period_end": "2026-03-10T12:00:00-03:00",
    "cancel_at": None,
    "cancel_origin": "",
    "cancel_reason": "",
    "cancel_reason_code": "",
    "cancel_reason_params": {},
    "access_until": None,
}
_SUBSCRIPTION_CANCELING = {
    **_SUBSCRIPTION,
    "cancel_at": "2026-03-10T12:00:00-03:00",
    "cancel_origin": "customer",
    "cancel_reason": "Mudei de cidade.",
    "access_until": "2026-03-10T12:00:00-03:00",
}
_INVOICE = {
    "id": 2210,
    "number": 58,
    "subscription": 1042,
    "customer": 311,
    "status": "open",
    "currency": "BRL",
    "subtotal": 4990,
    "discount": 0,
    "tax": 0,
    "total": 4990,
    "amount_paid": 0,
    "credit_applied": 0,
    "period_start": "2026-02-10T12:00:00-03:00",
    "period_end": "2026-03-10T12:00:00-03:00",
    "installment_number": None,
}
_PAYMENT = {
    "id": 3307,
    "invoice": 2210,
    "attempt": 1,
    "amount": 4990,
    "currency": "BRL",
    "method": "card",
    "gateway": "sandbox",
    "status": "succeeded",
    "failure_code": "",
    "amount_refunded": 0,
    "amount_charged_back": 0,
}

_SCHEDULE = {
    "id": 77,
    "subscription": 1042,
    "status": "active",
    "end_behavior": "release",
    "current_phase": 0,
    "next_phase_at": "2026-03-01T00:00:00-03:00",
    "phases": [
        {
            "start": "2026-02-01T00:00:00-03:00",
            "end": "2026-03-01T00:00:00-03:00",
            "plan": 12,
            "price": None,
            "quantity": 1,
            "coupon": None,
            "discount_percent": None,
            "tax_rates": [3, 4],
            "trial_days": None,
            "proration": "prorate",
            "anchor": "automatic",
            "kind": "terms",
            "resume_mode": "",
        },
        {
            "start": "2026-03-01T00:00:00-03:00",
            "end": "2027-01-01T00:00:00-03:00",
            "plan": 13,
            "price": None,
            "quantity": 2,
            "coupon": "METADE",
            "discount_percent": None,
            "tax_rates": [3],
            "trial_days": None,
            "proration": "none",
            "anchor": "phase_start",
            "kind": "terms",
            "resume_mode": "",
        },
    ],
}

EVENT_TYPES: list[CatalogEntry] = [
    CatalogEntry(
        EventType.SUBSCRIPTION_CREATED,
        _("Uma assinatura foi contratada (pela tela, checkout ou importação)."),
        {**_SUBSCRIPTION, "status": "pending"},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_STARTED,
        _("Uma assinatura agendada chegou à data de início."),
        _SUBSCRIPTION,
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_ACTIVATED,
        _("A assinatura ficou ativa depois de um pagamento."),
        {**_SUBSCRIPTION, "reason": "Pagamento da fatura nº 58 aprovado."},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_PENDING,
        _("A assinatura aguarda o pagamento de um boleto ou pix."),
        {
            **_SUBSCRIPTION,
            "status": "pending",
            "payment_method": "boleto",
            "reason": "Aguardando o pagamento da primeira fatura.",
        },
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_PAST_DUE,
        _("Uma cobrança da assinatura falhou; novas tentativas seguem a régua de cobrança."),
        {**_SUBSCRIPTION, "status": "past_due", "reason": "Cartão recusado."},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_UPDATED,
        _("Plano, quantidade, impostos ou outros dados da assinatura mudaram."),
        {**_SUBSCRIPTION, "changes": {"quantity": [1, 2]}},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_CANCEL_SCHEDULED,
        _("Um cancelamento foi agendado (no fim do período ou numa data)."),
        _SUBSCRIPTION_CANCELING,
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_CANCEL_REVERTED,
        _("Um cancelamento agendado foi desfeito antes da data: a assinatura continua."),
        _SUBSCRIPTION,
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_CANCELED,
        _(
            "A assinatura foi cancelada. “cancel_reason_code” é o motivo que o próprio sistema registrou "
            "(“schedule_ended_subscription”, “dunning_exhausted”, “chargeback”, “canceled_in_stripe”, "
            "“canceled_by_platform”, “invoice_voided”, “invoice_uncollectible”) ou o que o cliente escolheu "
            "no portal (“portal_cancel_request”: em “cancel_reason_params”, “option” é price, not_using, "
            "missing, problems ou other e “details” é o texto que o cliente escreveu), com seus dados em "
            "“cancel_reason_params”; vazio quando uma pessoa escreveu o motivo. “cancel_reason” é o texto "
            "do motivo, em português, qualquer que seja o idioma de quem cancelou."
        ),
        {
            **_SUBSCRIPTION_CANCELING,
            "status": "canceled",
            "cancel_origin": "seller",
            "cancel_reason": "Fim da programação.",
            "cancel_reason_code": "schedule_ended_subscription",
        },
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_PAUSED,
        _(
            "A assinatura foi pausada: nenhuma fatura até ser retomada. “access_until” diz até quando o "
            "cliente mantém o acesso (regra do lojista)."
        ),
        {**_SUBSCRIPTION, "status": "paused", "access_until": "2026-03-10T12:00:00-03:00"},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_RESUMED,
        _(
            "A assinatura pausada foi retomada: “resume_mode” diz se começou um novo período (new_period) "
            "ou continuou o ciclo, cobrando a parte restante (continue)."
        ),
        {**_SUBSCRIPTION, "resume_mode": "continue"},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_EXPIRED,
        _("A assinatura expirou depois de esgotar as tentativas de cobrança."),
        {**_SUBSCRIPTION, "status": "expired", "reason": "Tentativas de cobrança esgotadas."},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_REFUNDED,
        _("O último pagamento da assinatura foi reembolsado integralmente."),
        {**_SUBSCRIPTION_CANCELING, "status": "refunded", "reason": "Pedido do cliente"},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_TRIAL_WILL_END,
        _("O período de teste termina em 3 dias (enviado uma vez por teste)."),
        {**_SUBSCRIPTION, "status": "trialing", "trial_ends_at": "2026-02-17T12:00:00-03:00"},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_ACCESS_GRANTED,
        _(
            "O cliente ganhou (ou recuperou) acesso ao que assinou. Quando o acesso foi devolvido por "
            "“Readicionar”, o payload traz também “readded”: true."
        ),
        _SUBSCRIPTION,
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_ACCESS_REVOKED,
        _("O cliente perdeu o acesso (remoção, expiração, cancelamento ou reembolso)."),
        {**_SUBSCRIPTION, "status": "canceled", "cancel_origin": "seller"},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_DELETED,
        _("Uma assinatura do primeiro mês foi excluída."),
        _SUBSCRIPTION,
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_CARD_UPDATED,
        _("O cartão da assinatura foi trocado (“Alterar cartão”): finais do cartão antigo e do novo."),
        {**_SUBSCRIPTION, "old_card_last4": "0002", "card_last4": "4242", "card_brand": "Visa"},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_PRICE_CHANGE_SCHEDULED,
        _(
            "O cliente foi avisado de um reajuste do preço do plano: valor atual e novo por período, fim do "
            "aviso e a primeira renovação com o novo valor (“effective_at”)."
        ),
        {
            **_SUBSCRIPTION,
            "old_amount": 4990,
            "new_amount": 5990,
            "notice_ends_at": "2026-04-09T12:00:00-03:00",
            "effective_at": "2026-04-10T12:00:00-03:00",
            "plan_price_version": 2,
        },
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_SCHEDULE_CREATED,
        _("Uma programação de fases foi criada para uma assinatura (na contratação ou depois)."),
        _SCHEDULE,
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_SCHEDULE_UPDATED,
        _(
            "As fases de uma programação foram alteradas "
            "(fases futuras, ou quantidade/cupom/impostos da atual)."
        ),
        _SCHEDULE,
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_SCHEDULE_PHASE_STARTED,
        _(
            "Uma fase da programação começou: as condições dela passaram a valer; "
            "“phase” é o número (desde 0)."
        ),
        {**_SCHEDULE, "current_phase": 1, "phase": 1},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_SCHEDULE_RELEASED,
        _(
            "A assinatura foi liberada da programação: segue nas condições atuais; "
            "as fases restantes não ocorrem."
        ),
        {**_SCHEDULE, "status": "released", "next_phase_at": None},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_SCHEDULE_COMPLETED,
        _(
            "A última fase terminou: a assinatura segue nas condições dela (liberar) "
            "ou é cancelada (cancelar)."
        ),
        {**_SCHEDULE, "status": "completed", "next_phase_at": None},
    ),
    CatalogEntry(
        EventType.SUBSCRIPTION_SCHEDULE_CANCELED,
        _("A programação foi cancelada junto com a assinatura."),
        {**_SCHEDULE, "status": "canceled", "next_phase_at": None},
    ),
    CatalogEntry(
        EventType.PLAN_PRICE_CHANGED,
        _(
            "O preço de um plano mudou (nova versão para novas assinaturas). “existing”: as assinaturas "
            "existentes mantêm o preço (“grandfathered”) ou passam ao novo depois do aviso (“migrated”)."
        ),
        {
            "id": 7,
            "name": "Clube Mensal",
            "version": 2,
            "amount": 5990,
            "currency": "BRL",
            "valid_from": "2026-03-10T12:00:00-03:00",
            "old_version": 1,
            "old_amount": 4990,
            "existing": "migrated",
            "notice_ends_at": "2026-04-09T12:00:00-03:00",
        },
    ),
    CatalogEntry(
        EventType.INVOICE_CREATED,
        _("Uma fatura foi emitida (renovação, parcela ou rateio de troca de plano)."),
        _INVOICE,
    ),
    CatalogEntry(
        EventType.INVOICE_PAID,
        _("Uma fatura foi paga."),
        {**_INVOICE, "status": "paid", "amount_paid": 4990},
    ),
    CatalogEntry(
        EventType.INVOICE_PAYMENT_FAILED,
        _("Uma tentativa de cobrança da fatura falhou."),
        _INVOICE,
    ),
    CatalogEntry(
        EventType.INVOICE_OVERDUE,
        _("A fatura venceu sem pagamento e as tentativas acabaram."),
        {**_INVOICE, "status": "uncollectible"},
    ),
    CatalogEntry(
        EventType.INVOICE_FINALIZED,
        _("Um rascunho de fatura foi finalizado e passou a ser cobrado (em aberto)."),
        _INVOICE,
    ),
    CatalogEntry(
        EventType.INVOICE_VOIDED,
        _(
            "Uma fatura foi anulada: nada é devido (anulada pela equipe, ou a assinatura terminou sem que "
            "ela fosse cobrada; o boleto/pix dela é cancelado)."
        ),
        {**_INVOICE, "status": "void"},
    ),
    CatalogEntry(
        EventType.INVOICE_MARKED_UNCOLLECTIBLE,
        _(
            "Uma fatura foi marcada como incobrável: as tentativas param, o valor continua devido "
            "(pela equipe, ou a assinatura terminou durante as tentativas de cobrança)."
        ),
        {**_INVOICE, "status": "uncollectible"},
    ),
    CatalogEntry(
        EventType.PAYMENT_SUCCEEDED,
        _("Um pagamento foi aprovado."),
        _PAYMENT,
    ),
    CatalogEntry(
        EventType.PAYMENT_PENDING,
        _(
            "Um boleto ou pix foi emitido e aguarda o pagamento (o primeiro da fatura ou um novo após o "
            "vencimento do anterior)."
        ),
        {
            **_PAYMENT,
            "method": "boleto",
            "status": "pending",
        },
    ),
    CatalogEntry(
        EventType.PAYMENT_FAILED,
        _("Um pagamento foi recusado ou o boleto/pix venceu."),
        {**_PAYMENT, "status": "failed", "failure_code": "card_declined"},
    ),
    CatalogEntry(
        EventType.PAYMENT_CANCELED,
        _(
            "Um boleto ou pix pendente foi cancelado: a fatura foi paga de outro jeito ou anulada, ou a "
            "assinatura terminou. Ele não pode mais ser pago."
        ),
        {**_PAYMENT, "method": "boleto", "status": "canceled"},
    ),
    CatalogEntry(
        EventType.PAYMENT_REFUNDED,
        _(
            "Um pagamento foi reembolsado, total ou parcialmente. Em “refund”, “reason_code” é o motivo "
            "que o próprio sistema registrou (“refunded_in_stripe”, “withdrawal_refund”: direito de "
            "arrependimento pedido no portal, “credit_balance_refund”), com seus dados em “reason_params”; "
            "vazio quando uma pessoa escreveu o motivo. “reason” é o texto do motivo, em português."
        ),
        {
            **_PAYMENT,
            "status": "refunded",
            "amount_refunded": 4990,
            "refund": {
                "id": 91,
                "payment": 3307,
                "amount": 4990,
                "status": "succeeded",
                "reason": "Pedido do cliente",
                "reason_code": "",
                "reason_params": {},
            },
        },
    ),
    CatalogEntry(
        EventType.CHARGEBACK_CREATED,
        _(
            "O banco do cliente contestou um pagamento com cartão e devolveu o valor a ele (chargeback); "
            "a assinatura é encerrada na hora."
        ),
        {
            "id": 17,
            "payment": {**_PAYMENT, "status": "charged_back", "amount_charged_back": 4990},
            "invoice": 2210,
            "subscription": {
                **_SUBSCRIPTION,
                "status": "canceled",
                "cancel_at": "2026-03-12T09:30:00-03:00",
                "cancel_origin": "customer",
                "access_until": "2026-03-12T09:30:00-03:00",
            },
            "amount": 4990,
            "currency": "BRL",
            "reason": "Fraude alegada pelo titular do cartão",
            "gateway_reference": "dp_1Nf3",
        },
    ),
    CatalogEntry(
        EventType.CHARGEBACK_CLOSED,
        _(
            "O banco decidiu a disputa de um chargeback: ganha (o valor voltou ao lojista e o pagamento "
            "conta de novo como recebido) ou perdida (o valor fica com o cliente). A assinatura continua "
            "encerrada."
        ),
        {
            "id": 17,
            "payment": {**_PAYMENT, "status": "succeeded", "amount_charged_back": 0},
            "invoice": 2210,
            "subscription": None,
            "amount": 4990,
            "currency": "BRL",
            "reason": "fraudulent",
            "gateway_reference": "dp_1Nf3",
            "status": "won",
        },
    ),
    CatalogEntry(
        EventType.CUSTOMER_UPDATED,
        _(
            "Os dados de um cliente mudaram: pela equipe (Clientes > Editar), pela API, pelo próprio cliente "
            "em Minha assinatura ou pela sincronização com a Stripe. “changed” diz quais campos mudaram "
            "(name, email, handle, document, phone, address: o endereço conta como um só), nunca os valores "
            "antigos; os novos, consulte em GET /api/v1/customers/{id}. “actor” diz quem: by = user "
            "(membro da equipe), customer (channel portal), api_key, provider ou system."
        ),
        {
            "id": 311,
            "name": "Ana Souza",
            "email": "ana.souza@example.com",
            "changed": ["phone", "address"],
            "actor": {"by": "customer", "customer": 311, "channel": "portal"},
            "updated_at": "2026-03-02T14:05:00-03:00",
        },
    ),
    CatalogEntry(
        EventType.CUSTOMER_CREDIT_BALANCE_CHANGED,
        _(
            "O saldo de crédito do cliente mudou: crédito de rateio (downgrade), ajuste manual, uso numa "
            "fatura, devolução ou reembolso. “amount” é o movimento (positivo = crédito para o cliente) e "
            "“balance”, o saldo depois dele."
        ),
        {
            "id": 88,
            "customer": 311,
            "currency": "BRL",
            "amount": 2581,
            "reason": "proration_credit",
            "invoice": 2211,
            "payment": None,
            "balance": 2581,
        },
    ),
    CatalogEntry(
        TEST_EVENT_TYPE,
        _("Enviado pelo botão “Enviar teste”; só chega ao endpoint testado."),
        {"endpoint": {"id": 12, "url": "https://example.com/webhooks/recorrente"}},
    ),
]
EVENT_TYPES_BY_NAME = {event_type.type: event_type for event_type in EVENT_TYPES}


def subscribable_event_type_choices() -> list[tuple[str, str]]:
    """What an endpoint may subscribe to: every type but the test event, which only "Enviar teste" sends."""
    return [(t.type, t.type) for t in EVENT_TYPES if t.type != TEST_EVENT_TYPE]


def envelope(*, type: str, timestamp: str, data: dict) -> dict:
    """The JSON body of a delivery: the event's type, when it happened (ISO 8601) and its payload."""
    return {"version": ENVELOPE_VERSION, "type": type, "timestamp": timestamp, "data": data}
