"""Subscription statuses and the one table of what may happen in each (README, "Planos > Assinaturas").

Services, views and templates all ask `Subscription.can(action)`, which reads ALLOWED_ACTIONS;
services move statuses only along TRANSITIONS.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.badges import register_badges


class SubscriptionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Agendada")
    PENDING = "pending", _("Pendente")
    TRIALING = "trialing", _("Em teste")
    ACTIVE = "active", _("Ativa")
    PAST_DUE = "past_due", _("Pagamento pendente")
    CANCELED = "canceled", _("Cancelada")
    EXPIRED = "expired", _("Expirada")
    REFUNDED = "refunded", _("Reembolsada")
    # No invoices and no advancing periods until it is resumed (subscribers.services.pause).
    PAUSED = "paused", _("Pausada")


# Bootstrap badge per status (core.badges): green runs, blue not charging yet, yellow/red needs attention,
# grey ended.
register_badges(
    SubscriptionStatus,
    {
        SubscriptionStatus.SCHEDULED: "text-bg-info",
        SubscriptionStatus.PENDING: "text-bg-warning",
        SubscriptionStatus.TRIALING: "text-bg-primary",
        SubscriptionStatus.ACTIVE: "text-bg-success",
        SubscriptionStatus.PAST_DUE: "text-bg-danger",
        SubscriptionStatus.CANCELED: "text-bg-secondary",
        SubscriptionStatus.EXPIRED: "text-bg-dark",
        SubscriptionStatus.REFUNDED: "text-bg-light border",
        SubscriptionStatus.PAUSED: "text-bg-secondary border border-warning",
    },
)


class SubscriptionAction(models.TextChoices):
    CANCEL = "cancel", _("Cancelar")
    REFUND = "refund", _("Reembolsar")
    EDIT = "edit", _("Editar")
    DELETE = "delete", _("Excluir")
    REMOVE = "remove", _("Remover")
    READD = "readd", _("Readicionar")
    CHANGE_CARD = "change_card", _("Alterar cartão")
    # Take back a cancellation scheduled for a later date, before it takes effect.
    REVERT_CANCEL = "revert_cancel", _("Desfazer cancelamento")
    PAUSE = "pause", _("Pausar")
    RESUME = "resume", _("Retomar")


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Cartão de crédito")
    BOLETO = "boleto", _("Boleto")
    PIX = "pix", _("Pix")
    MANUAL = "manual", _("Manual")


class PaymentStatus(models.TextChoices):
    """A payment's status (billing.models.Payment.status, moved only by billing.services.states). Listed
    here, below billing, because a subscription carries its newest payment's status
    (`Subscription.last_payment_status`) and Assinantes and its export show it with these labels."""

    PENDING = "pending", _("Pendente")
    SUCCEEDED = "succeeded", _("Paga")
    FAILED = "failed", _("Falhou")
    CANCELED = "canceled", _("Cancelada")
    REFUNDED = "refunded", _("Reembolsada")
    # Some of the money went back (refunds); the rest is still the merchant's and may still be refunded.
    PARTIALLY_REFUNDED = "partially_refunded", _("Parcialmente reembolsada")
    # The card holder's bank took it back (billing.services.chargebacks): nothing left to refund.
    CHARGED_BACK = "charged_back", _("Contestada (chargeback)")


register_badges(
    PaymentStatus,
    {
        PaymentStatus.PENDING: "text-bg-warning",
        PaymentStatus.SUCCEEDED: "text-bg-success",
        PaymentStatus.FAILED: "text-bg-danger",
        PaymentStatus.CANCELED: "text-bg-secondary",
        PaymentStatus.REFUNDED: "text-bg-light border",
        PaymentStatus.PARTIALLY_REFUNDED: "text-bg-light border",
        PaymentStatus.CHARGED_BACK: "text-bg-danger",
    },
)


class FailureCode(models.TextChoices):
    """Why a payment or a refund failed, in our own words: the codes the sandbox gateway, the billing run
    (a lapsed boleto/pix) and our Stripe charging give. Stored as `failure_code` with no `failure_message`
    and named when shown (`failure_text`), so each reader reads their own language; a provider's own
    message (Stripe's decline) stays verbatim in `failure_message`. Here, below billing, because the
    timeline names a declined charge's reason (subscribers/timeline.py). A code is never renamed."""

    CARD_DECLINED = "card_declined", _("Cartão recusado pelo emissor.")
    INSUFFICIENT_FUNDS = "insufficient_funds", _("Saldo insuficiente.")
    INVALID_CARD = "invalid_card", _("Número de cartão inválido.")
    GATEWAY_UNAVAILABLE = "gateway_unavailable", _("Gateway indisponível.")
    # A boleto or pix that lapsed unpaid (the billing run, the sandbox).
    EXPIRED = "expired", _("O boleto/pix venceu sem pagamento.")
    UNSUPPORTED_CURRENCY = "unsupported_currency", _("Boleto e Pix só aceitam reais (BRL).")
    PAYMENT_METHOD_MISSING = "payment_method_missing", _("Nenhum meio de pagamento salvo no Stripe.")
    AUTHENTICATION_REQUIRED = "authentication_required", _("O cartão exige a autenticação do cliente.")
    # Refunds.
    INVALID_AMOUNT = "invalid_amount", _("O valor do reembolso deve ser maior que zero.")
    BOLETO_NOT_REFUNDABLE = (
        "boleto_not_refundable",
        _("Pagamentos por boleto não podem ser reembolsados pelo gateway."),
    )
    CHARGE_NOT_PAID = "charge_not_paid", _("Só é possível reembolsar uma cobrança paga.")
    AMOUNT_TOO_LARGE = "amount_too_large", _("O valor é maior que o saldo ainda reembolsável.")


def failure_text(code: str, message: str = "") -> str:
    """Why a payment or refund failed, in the active language: the provider's message as it gave it, else
    the label of one of our codes, else the code itself."""
    if message:
        return message
    if code in FailureCode.values:
        return str(FailureCode(code).label)
    return code


class SubscriptionOrigin(models.TextChoices):
    """Where a subscription came from."""

    SCREEN = "screen", _("Tela do lojista")
    CHECKOUT = "checkout", _("Checkout")
    IMPORT = "import", _("Importação")
    API = "api", _("API")
    PROVIDER = "provider", _("Provedor de pagamento")


class CancelOrigin(models.TextChoices):
    """Who asked for a cancellation. Support cancelling on a customer's behalf picks "customer"."""

    CUSTOMER = "customer", _("Cliente")
    SELLER = "seller", _("Vendedor")
    ADMIN = "admin", _("Administrador da plataforma")
    # Ended at the payment provider (cancelled in the Stripe dashboard), mirrored here.
    PROVIDER = "provider", _("Provedor de pagamento")


class PortalCancelReason(models.TextChoices):
    """The reasons a customer picks from when cancelling in the portal. The value is what is stored
    (`Subscription.cancel_reason_params["option"]`, subscribers/timeline.py): each reader sees the label in
    their own language, whichever language the customer used. A value is never renamed or removed."""

    PRICE = "price", _("Está caro para mim")
    NOT_USING = "not_using", _("Não estou usando o suficiente")
    MISSING = "missing", _("Falta algo de que preciso")
    PROBLEMS = "problems", _("Tive problemas com o serviço")
    OTHER = "other", _("Outro motivo")


class CancelWhen(models.TextChoices):
    NOW = "now", _("Imediatamente")
    PERIOD_END = "period_end", _("No fim do período atual")
    DATE = "date", _("Em uma data escolhida")


class PauseWhen(models.TextChoices):
    NOW = "now", _("Agora")
    PERIOD_END = "period_end", _("No fim do período atual")
    DATE = "date", _("Em uma data escolhida")


class ResumeMode(models.TextChoices):
    """What resuming a paused subscription bills (chosen with its preview)."""

    NEW_PERIOD = "new_period", _("Começar um novo período na retomada (novo ciclo de cobrança)")
    CONTINUE = "continue", _("Continuar o ciclo atual (cobra a parte restante do período, proporcional)")


class PauseCoupons(models.TextChoices):
    """A merchant's rule for coupons with a duration in months while a subscription is paused."""

    KEEP_COUNTING = "keep_counting", _("Continuam contando durante a pausa")
    FREEZE = "freeze", _("Ficam congelados durante a pausa (a duração é estendida pelo tempo pausado)")


class PauseAccess(models.TextChoices):
    """A merchant's rule for the customer's access while a subscription is paused."""

    UNTIL_PERIOD_END = "until_period_end", _("Mantém o acesso até o fim do período pago, depois nenhum")
    NONE = "none", _("Sem acesso desde o início da pausa")


class DiscountType(models.TextChoices):
    NONE = "", _("Sem desconto")
    PERCENT = "percent", _("Percentual")
    FIXED = "fixed", _("Valor fixo")


class BackdateBilling(models.TextChoices):
    """What a contract dated in the past charges now (chosen on Nova assinatura, amounts previewed)."""

    PERIODS = "periods", _("Cobrar os períodos inteiros desde a data")
    PRORATED = "prorated", _("Cobrar só o tempo decorrido, proporcional, e começar o ciclo hoje")
    TODAY = "today", _("Começar a cobrar hoje, sem cobrar o tempo passado")


class EventKind(models.TextChoices):
    CREATED = "created", _("Contratada")
    EDITED = "edited", _("Alterada")
    STARTED = "started", _("Iniciada")
    CANCEL_SCHEDULED = "cancel_scheduled", _("Cancelamento agendado")
    CANCEL_REVERTED = "cancel_reverted", _("Cancelamento desfeito")
    PAUSE_SCHEDULED = "pause_scheduled", _("Pausa agendada")
    PAUSED = "paused", _("Pausada")
    RESUME_SCHEDULED = "resume_scheduled", _("Retomada agendada")
    RESUMED = "resumed", _("Retomada")
    CANCELED = "canceled", _("Cancelada")
    REMOVED = "removed", _("Removida (acesso revogado)")
    READDED = "readded", _("Readicionada (acesso reenviado)")
    DELETED = "deleted", _("Excluída")
    BILLING = "billing", _("Cobrança")
    EXPIRED = "expired", _("Expirada")
    REFUNDED = "refunded", _("Reembolsada")
    SCHEDULE = "schedule", _("Programação")
    PRICE_CHANGE_SCHEDULED = "price_notice", _("Reajuste de preço avisado")
    PRICE_CHANGED = "price_changed", _("Reajuste de preço aplicado")
    CUSTOMER_UPDATED = "customer_updated", _("Dados do cliente alterados")


S = SubscriptionStatus
_LIVE = frozenset({S.SCHEDULED, S.TRIALING, S.ACTIVE, S.PAST_DUE})
_RUNNING = _LIVE | {S.PAUSED}

# action → statuses in which it is allowed (DELETE has its own time rule instead: see can_delete).
ALLOWED_ACTIONS: dict[str, frozenset[str]] = {
    SubscriptionAction.CANCEL: _RUNNING,
    SubscriptionAction.REMOVE: _RUNNING,
    SubscriptionAction.REFUND: frozenset({S.CANCELED}),
    SubscriptionAction.EDIT: frozenset({S.SCHEDULED, S.PENDING, S.TRIALING, S.ACTIVE, S.PAST_DUE, S.PAUSED}),
    SubscriptionAction.READD: frozenset({S.ACTIVE, S.TRIALING}),
    SubscriptionAction.DELETE: frozenset(S),
    # The card on file may be replaced while the subscription is still charged (a past-due card fixed).
    SubscriptionAction.CHANGE_CARD: frozenset(
        {S.SCHEDULED, S.PENDING, S.TRIALING, S.ACTIVE, S.PAST_DUE, S.PAUSED}
    ),
    # Only while a scheduled cancellation is still ahead (Subscription.can checks cancel_at).
    SubscriptionAction.REVERT_CANCEL: _RUNNING,
    # Pausing needs a running cycle; a pause already scheduled or a cancellation ahead refuse it
    # (Subscription.can).
    SubscriptionAction.PAUSE: frozenset({S.ACTIVE, S.PAST_DUE}),
    SubscriptionAction.RESUME: frozenset({S.PAUSED}),
}

# status → statuses a service may move it to.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SCHEDULED: frozenset({S.PENDING, S.TRIALING, S.ACTIVE, S.CANCELED}),
    S.PENDING: frozenset({S.ACTIVE, S.TRIALING, S.PAST_DUE, S.CANCELED, S.EXPIRED}),
    S.TRIALING: frozenset({S.ACTIVE, S.PENDING, S.PAST_DUE, S.CANCELED}),
    S.ACTIVE: frozenset({S.PAST_DUE, S.CANCELED, S.EXPIRED, S.PAUSED}),
    S.PAST_DUE: frozenset({S.ACTIVE, S.CANCELED, S.EXPIRED, S.PAUSED}),
    # Resumed (active again) or cancelled while paused; nothing is billed in between, so nothing expires.
    S.PAUSED: frozenset({S.ACTIVE, S.CANCELED}),
    S.CANCELED: frozenset({S.REFUNDED}),
    S.EXPIRED: frozenset(),
    S.REFUNDED: frozenset(),
}

# The one copy of the refund rule on payment methods: money paid by boleto cannot be given back (a bank
# slip has no way to return it), so neither a subscription paid by boleto nor a boleto payment is refunded.
NON_REFUNDABLE_METHODS = frozenset({PaymentMethod.BOLETO})


def method_is_refundable(method: str) -> bool:
    """True when money paid with `method` may be refunded (everything but boleto)."""
    return method not in NON_REFUNDABLE_METHODS


# Statuses in which a subscription no longer runs ("deactivated").
ENDED_STATUSES = frozenset({S.CANCELED, S.EXPIRED, S.REFUNDED})


class ExportStatus(models.TextChoices):
    """Where a recorded CSV export stands: the stream ends it as finished, interrupted (the browser went
    away before the last row) or failed (an error while streaming)."""

    STARTED = "started", _("Em andamento")
    FINISHED = "finished", _("Concluída")
    INTERRUPTED = "interrupted", _("Interrompida")
    FAILED = "failed", _("Falhou")


register_badges(
    ExportStatus,
    {
        ExportStatus.STARTED: "text-bg-info",
        ExportStatus.FINISHED: "text-bg-success",
        ExportStatus.INTERRUPTED: "text-bg-warning",
        ExportStatus.FAILED: "text-bg-danger",
    },
)


class ExportFormat(models.TextChoices):
    HUMAN = "human", _("Planilha (pt-BR)")
    MACHINE = "machine", _("Sistemas (ISO, centavos)")


# --- schedules (Programações) -----------------------------------------------------------------------
class ScheduleStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Não iniciada")
    ACTIVE = "active", _("Em andamento")
    COMPLETED = "completed", _("Concluída")
    RELEASED = "released", _("Liberada")
    CANCELED = "canceled", _("Cancelada")


# Neutral for every status: the card's timeline carries the detail.
register_badges(ScheduleStatus, dict.fromkeys(ScheduleStatus, "text-bg-light"))


class PhaseState(models.TextChoices):
    """Where a phase stands against today: what the editor lets change and the badge the pages show."""

    PAST = "past", _("Encerrada")
    CURRENT = "current", _("Atual")
    FUTURE = "future", _("Futura")


register_badges(
    PhaseState,
    {
        PhaseState.PAST: "text-bg-secondary",
        PhaseState.CURRENT: "text-bg-primary",
        PhaseState.FUTURE: "text-bg-light",
    },
)


class ScheduleEndBehavior(models.TextChoices):
    """What happens when the last phase ends."""

    RELEASE = "release", _("Liberar: a assinatura continua nas condições da última fase")
    CANCEL = "cancel", _("Cancelar: a assinatura termina com a última fase")


class PhaseProration(models.TextChoices):
    """What entering a phase in the middle of a paid period bills."""

    PRORATE = "prorate", _("Ratear agora")
    NONE = "none", _("Sem rateio")


class PhaseKind(models.TextChoices):
    """A phase with terms, or a pause: an interval of the schedule with no invoice (docs/pause.md)."""

    TERMS = "terms", _("Fase")
    PAUSE = "pause", _("Pausa")


class PhaseAnchor(models.TextChoices):
    """The billing-cycle anchor while a phase runs."""

    AUTOMATIC = "automatic", _("Manter o ciclo atual")
    PHASE_START = "phase_start", _("Reiniciar o ciclo no início da fase")


SS = ScheduleStatus
# status → statuses a schedule may move to (subscribers.services.schedules moves them, nothing else).
SCHEDULE_TRANSITIONS: dict[str, frozenset[str]] = {
    SS.NOT_STARTED: frozenset({SS.ACTIVE, SS.RELEASED, SS.CANCELED}),
    SS.ACTIVE: frozenset({SS.COMPLETED, SS.RELEASED, SS.CANCELED}),
    SS.COMPLETED: frozenset(),
    SS.RELEASED: frozenset(),
    SS.CANCELED: frozenset(),
}
# A schedule still steering its subscription: it may be edited, released or cancelled.
LIVE_SCHEDULE_STATUSES = frozenset({SS.NOT_STARTED, SS.ACTIVE})
MAX_SCHEDULE_PHASES = 10


class PriceNoticeStatus(models.TextChoices):
    """Where one subscription's price-change notice is: waiting for its first renewal after the notice
    period, applied by that renewal, or void (the subscription ended, changed plan or got a newer notice)."""

    SCHEDULED = "scheduled", _("Avisado")
    APPLIED = "applied", _("Aplicado")
    VOID = "void", _("Sem efeito")


register_badges(
    PriceNoticeStatus,
    {
        PriceNoticeStatus.SCHEDULED: "text-bg-warning",
        PriceNoticeStatus.APPLIED: "text-bg-success",
        PriceNoticeStatus.VOID: "text-bg-secondary",
    },
)

# status → statuses a notice may move to (subscribers.services.price_changes moves them, nothing else).
PRICE_NOTICE_TRANSITIONS: dict[str, frozenset[str]] = {
    PriceNoticeStatus.SCHEDULED: frozenset({PriceNoticeStatus.APPLIED, PriceNoticeStatus.VOID}),
    PriceNoticeStatus.APPLIED: frozenset(),
    PriceNoticeStatus.VOID: frozenset(),
}
