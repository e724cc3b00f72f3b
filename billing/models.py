import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from billing import provider_notes
from billing.choices import (
    BILLING_RUN_ERRORS,
    INVOICE_ACTIONS,
    PAYMENT_TRANSITIONS,
    BillingRunStatus,
    BillingRunTrigger,
    ChargebackStatus,
    CreditReason,
    DunningFinalAction,
    Gateway,
    InvoiceKind,
    InvoiceStatus,
    PaymentProvider,
    PaymentStatus,
    ProviderEventStatus,
    RefundStatus,
    StripeMode,
    failure_text,
)
from core import crypto
from core.fields import EncryptedSecretField
from subscribers import timeline
from subscribers.choices import PauseAccess, PauseCoupons, PaymentMethod
from subscribers.models import Customer, Subscription


class BillingSettings(models.Model):
    """A merchant's billing policy (Configurações > Cobrança): dunning and the sandbox gateway's switches.
    Merchants without a row use the defaults, which are the source documents' rules."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, related_name="billing_settings", verbose_name=_("lojista")
    )
    retries = models.PositiveSmallIntegerField(
        _("novas tentativas"),
        default=2,
        validators=[MaxValueValidator(10)],
        help_text=_("Depois de uma cobrança recusada."),
    )
    retry_interval_hours = models.PositiveSmallIntegerField(
        _("horas entre tentativas"), default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 14)]
    )
    final_action = models.CharField(
        _("quando as tentativas acabarem"),
        max_length=12,
        choices=DunningFinalAction.choices,
        default=DunningFinalAction.EXPIRE,
    )
    boleto_pix_expiry_days = models.PositiveSmallIntegerField(
        _("validade de boleto e pix (dias)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    backdate_max_periods = models.PositiveSmallIntegerField(
        _("retroativo máximo (períodos do plano)"),
        default=1,
        validators=[MaxValueValidator(12)],
        help_text=_("Uma contratação pode ser datada no passado até este número de períodos do plano…"),
    )
    backdate_max_days = models.PositiveSmallIntegerField(
        _("retroativo máximo (dias)"),
        default=31,
        validators=[MaxValueValidator(366)],
        help_text=_("… ou até este número de dias, o que for maior. 0 e 0: nenhuma data no passado."),
    )
    # Pausar / retomar (subscribers.services.pause asks these through subscribers.pause_policy).
    pause_coupons = models.CharField(
        _("cupons durante a pausa"),
        max_length=14,
        choices=PauseCoupons.choices,
        default=PauseCoupons.KEEP_COUNTING,
        help_text=_("Para cupons com duração em meses."),
    )
    pause_access = models.CharField(
        _("acesso durante a pausa"),
        max_length=16,
        choices=PauseAccess.choices,
        default=PauseAccess.UNTIL_PERIOD_END,
    )
    customers_may_pause = models.BooleanField(
        _("permitir que clientes pausem a assinatura"),
        default=False,
        help_text=_("No portal do cliente."),
    )
    # Minha assinatura: the offer a customer may accept with one click, shown only after they ask to cancel.
    portal_retention_coupon = models.ForeignKey(
        "plans.Coupon",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cupom da oferta de retenção"),
        help_text=_(
            "No portal, depois que o cliente pede o cancelamento, ele pode aceitar este cupom com um "
            "clique e manter a assinatura. Vazio: sem oferta com um clique."
        ),
    )
    sandbox_disconnected = models.BooleanField(
        _("gateway desconectado"),
        default=False,
        help_text=_("Simula uma falha do gateway: toda cobrança falha com gateway_unavailable."),
    )

    class Meta:
        verbose_name = _("configuração de cobrança")
        verbose_name_plural = _("configurações de cobrança")

    def __str__(self):
        return str(self.merchant)

    @classmethod
    def for_merchant(cls, merchant) -> "BillingSettings":
        """The merchant's settings, or unsaved defaults when they never changed them."""
        try:
            return merchant.billing_settings
        except cls.DoesNotExist:
            return cls(merchant=merchant)


class InvoiceSequence(models.Model):
    """Per-merchant invoice numbering: numbers are reserved in blocks under a row lock."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("lojista")
    )
    last_number = models.PositiveBigIntegerField(_("último número"), default=0)

    class Meta:
        verbose_name = _("numeração de faturas")
        verbose_name_plural = _("numerações de faturas")

    def __str__(self):
        return f"{self.merchant}: {self.last_number}"


class Invoice(models.Model):
    """What a customer owes for one period (or a proration or one-off charge), with its lines and totals."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("lojista")
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("assinatura")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("cliente")
    )
    number = models.PositiveBigIntegerField(_("número"))
    kind = models.CharField(
        _("tipo"), max_length=10, choices=InvoiceKind.choices, default=InvoiceKind.RECURRING
    )
    status = models.CharField(
        _("situação"), max_length=15, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )
    period_start = models.DateTimeField(_("início do período"))
    period_end = models.DateTimeField(_("fim do período"))
    installment_number = models.PositiveSmallIntegerField(_("parcela"), null=True, blank=True)
    currency = models.CharField(_("moeda"), max_length=3, default="BRL")
    subtotal = models.BigIntegerField(_("subtotal"), default=0)
    discount = models.BigIntegerField(_("desconto"), default=0)
    tax = models.BigIntegerField(_("impostos"), default=0)
    total = models.BigIntegerField(_("total"), default=0)
    amount_paid = models.BigIntegerField(_("valor pago"), default=0)
    amount_refunded = models.BigIntegerField(_("valor reembolsado"), default=0)
    # Paid from the customer's credit balance (billing.services.credit); the rest is charged. The database
    # default keeps bulk inserts (billing batches, benchmark COPY) valid without the column.
    credit_applied = models.BigIntegerField(_("crédito aplicado"), default=0, db_default=0)
    due_at = models.DateTimeField(_("vencimento"))
    # The provider's own invoice this one mirrors (a Stripe `in_…` for a subscription Stripe bills), so its
    # later events (payment failed, voided, uncollectible) find this invoice again. Empty for ours.
    provider_reference = models.CharField(
        _("referência no provedor"), max_length=100, blank=True, default="", db_default=""
    )
    attempt_count = models.PositiveSmallIntegerField(_("tentativas"), default=0)
    next_attempt_at = models.DateTimeField(_("próxima tentativa"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paga em"), null=True, blank=True)
    created_at = models.DateTimeField(_("criada em"), auto_now_add=True)

    class Meta:
        verbose_name = _("fatura")
        verbose_name_plural = _("faturas")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The last line of defence of the billing run: one recurring invoice per period, ever.
            models.UniqueConstraint(
                fields=["subscription", "period_start"],
                condition=Q(kind="recurring"),
                name="invoice_unique_recurring_period",
            ),
            models.UniqueConstraint(fields=["merchant", "number"], name="invoice_unique_number_per_merchant"),
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_not_negative"),
            models.CheckConstraint(
                condition=Q(credit_applied__gte=0, credit_applied__lte=F("total")),
                name="invoice_credit_applied_within_total",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "created_at"], name="invoice_merchant_status_idx"),
            # The invoices of a subscription with their ids, index-only: the first step of its last payment.
            models.Index(fields=["subscription", "id"], name="invoice_subscription_id_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="invoice_retry_due_idx"),
        ]

    def __str__(self):
        return _("Fatura nº %(number)s") % {"number": self.number}

    def get_absolute_url(self):
        return reverse("billing:invoice_detail", kwargs={"pk": self.pk})

    def can(self, action: str) -> bool:
        """Whether staff's `action` (billing.choices.InvoiceAction) applies in this status: the one table
        (INVOICE_ACTIONS, derived from INVOICE_TRANSITIONS) that services, views and templates ask."""
        return self.status in INVOICE_ACTIONS[action]

    @property
    def amount_due(self) -> int:
        """What is charged: the total less what the customer's credit balance paid."""
        return self.total - self.credit_applied

    def can_record_payment(self) -> bool:
        """Staff may record an offline payment of an open (or given-up) invoice."""
        return self.can("record_payment")


class InvoiceLine(models.Model):
    """One line of an invoice: the plan for a period, a proration credit or charge."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("fatura")
    )
    description = models.CharField(_("descrição"), max_length=200)
    period_start = models.DateTimeField(_("início"), null=True, blank=True)
    period_end = models.DateTimeField(_("fim"), null=True, blank=True)
    quantity = models.IntegerField(_("quantidade"), default=1)
    unit_amount = models.BigIntegerField(_("valor unitário"))
    amount = models.BigIntegerField(
        _("valor"), help_text=_("Quantidade × valor unitário; negativo para créditos.")
    )
    discount_amount = models.BigIntegerField(_("desconto"), default=0)
    tax_amount = models.BigIntegerField(_("imposto"), default=0)
    proration = models.BooleanField(_("rateio"), default=False)
    tax_details = models.JSONField(_("impostos aplicados"), default=list, blank=True)

    class Meta:
        verbose_name = _("linha da fatura")
        verbose_name_plural = _("linhas da fatura")
        ordering = ["pk"]

    def __str__(self):
        return self.description


class Payment(models.Model):
    """One attempt to collect an invoice through a gateway. The idempotency key (invoice + attempt)
    makes a retried task reuse the gateway's answer instead of charging twice."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="payments", verbose_name=_("lojista")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("fatura")
    )
    attempt = models.PositiveSmallIntegerField(_("tentativa"), default=1)
    amount = models.BigIntegerField(_("valor"))
    currency = models.CharField(_("moeda"), max_length=3, default="BRL")
    method = models.CharField(_("forma de pagamento"), max_length=10, choices=PaymentMethod.choices)
    gateway = models.CharField(_("gateway"), max_length=20, choices=Gateway.choices, default=Gateway.SANDBOX)
    gateway_reference = models.CharField(_("referência no gateway"), max_length=100, blank=True)
    status = models.CharField(
        _("situação"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    failure_code = models.CharField(_("código da falha"), max_length=40, blank=True)
    failure_message = models.CharField(_("motivo da falha"), max_length=255, blank=True)
    idempotency_key = models.CharField(_("chave de idempotência"), max_length=80, unique=True)
    amount_refunded = models.BigIntegerField(_("valor reembolsado"), default=0)
    # Taken back by the card holder's bank (chargebacks): no longer ours, so no longer refundable either.
    # The database default keeps bulk inserts (billing batches, benchmark COPY) valid without the column.
    amount_charged_back = models.BigIntegerField(_("valor contestado (chargeback)"), default=0, db_default=0)
    expires_at = models.DateTimeField(_("expira em"), null=True, blank=True)
    settled_at = models.DateTimeField(_("liquidado em"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registrado por"),
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("pagamento")
        verbose_name_plural = _("pagamentos")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # At most one successful charge per invoice, whatever happens above, and whatever happened to
            # it afterwards (a partially refunded or charged-back invoice is not paid again):
            # MONEY_RECEIVED_STATUSES.
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status__in=["succeeded", "partially_refunded", "refunded", "charged_back"]),
                name="payment_one_success_per_invoice",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "created_at"], name="payment_merchant_status_idx"),
            # A subscription's last payment (subscribers.selectors.subscriber_list_queryset, once per row
            # of Assinantes and of its CSV export): answered from the index alone, without heap reads.
            models.Index(
                fields=["invoice", "created_at", "id"], include=["status"], name="payment_invoice_latest_idx"
            ),
            models.Index(fields=["status", "expires_at"], name="payment_expiry_idx"),
        ]

    def __str__(self):
        return _("Pagamento %(key)s") % {"key": self.idempotency_key}

    def get_absolute_url(self):
        return self.invoice.get_absolute_url()

    @property
    def failure_display(self) -> str:
        """Why it failed, in the active language (a provider's own message verbatim)."""
        return failure_text(self.failure_code, self.failure_message)

    def can_simulate(self) -> bool:
        """A pending sandbox boleto or pix can be paid with "Simular pagamento" (where the sandbox's
        simulated payments are enabled: settings.SANDBOX_GATEWAY_ENABLED)."""
        return (
            settings.SANDBOX_GATEWAY_ENABLED
            and self.status == PaymentStatus.PENDING
            and self.gateway == Gateway.SANDBOX
            and self.method in (PaymentMethod.BOLETO, PaymentMethod.PIX)
        )

    @property
    def chargeable_amount(self) -> int:
        """What the bank can still take back: paid, minus refunded, minus charged back already."""
        return max(self.amount - self.amount_refunded - self.amount_charged_back, 0)

    def chargeback_refusal(self) -> str | None:
        """Why a chargeback cannot be recorded on this payment, or None when it can (asked by the screen
        before offering "Registrar chargeback" and by billing.services.chargebacks before recording one)."""
        if self.method != PaymentMethod.CARD:
            return gettext("Só pagamentos com cartão de crédito podem sofrer chargeback.")
        if self.amount_charged_back or self.status == PaymentStatus.CHARGED_BACK:
            return gettext("Este pagamento já tem um chargeback registrado.")
        if self.status == PaymentStatus.REFUNDED:
            return gettext("Este pagamento já foi reembolsado por inteiro: não há valor a contestar.")
        if PaymentStatus.CHARGED_BACK not in PAYMENT_TRANSITIONS[self.status]:
            return gettext("Só é possível registrar chargeback de um pagamento concluído.")
        if self.chargeable_amount <= 0:
            return gettext("Este pagamento já foi reembolsado por inteiro: não há valor a contestar.")
        return None

    @property
    def can_charge_back(self) -> bool:
        """Whether "Registrar chargeback" applies."""
        return self.chargeback_refusal() is None


class Refund(models.Model):
    """Money given back on a payment, full or partial, through the payment's gateway."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("lojista")
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("pagamento")
    )
    amount = models.BigIntegerField(_("valor"), validators=[MinValueValidator(1)])
    reason = models.TextField(_("motivo"), blank=True)
    # A reason the system words itself (refunded in Stripe, a withdrawal asked in the portal, …) is a code of
    # subscribers/timeline.py and its parameters, translated when shown; `reason` is then "" (it holds what a
    # person typed, kept verbatim).
    reason_code = models.CharField(_("código do motivo"), max_length=40, blank=True)
    reason_params = models.JSONField(_("parâmetros do motivo"), default=dict, blank=True)
    status = models.CharField(
        _("situação"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    gateway_reference = models.CharField(_("referência no gateway"), max_length=100, blank=True)
    failure_code = models.CharField(_("código da falha"), max_length=40, blank=True)
    failure_message = models.CharField(_("motivo da falha"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("feito por"),
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("reembolso")
        verbose_name_plural = _("reembolsos")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return _("Reembolso de %(payment)s") % {"payment": self.payment_id}

    def get_absolute_url(self):
        return self.payment.invoice.get_absolute_url()

    @property
    def failure_display(self) -> str:
        """Why it failed, in the active language (a provider's own message verbatim)."""
        return failure_text(self.failure_code, self.failure_message)

    @property
    def reason_display(self) -> str:
        """The reason in the active language: a coded one translated now, else the text a person typed."""
        return timeline.reason_text(self.reason_code, self.reason_params, self.reason)


class Chargeback(models.Model):
    """A card payment the customer disputed with their bank, who took the money back (chargeback).

    Recorded by staff from the gateway's notice (or simulated in the sandbox); the subscription ends at
    once. One per payment: a bank reverses a charge once.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="chargebacks", verbose_name=_("lojista")
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="chargebacks", verbose_name=_("pagamento")
    )
    amount = models.BigIntegerField(_("valor"), validators=[MinValueValidator(1)])
    reason = models.TextField(_("motivo"), blank=True)
    gateway_reference = models.CharField(_("referência no gateway"), max_length=100, blank=True)
    # Moved only by billing.services.states.chargeback_move (CHARGEBACK_TRANSITIONS).
    status = models.CharField(
        _("situação"),
        max_length=10,
        choices=ChargebackStatus.choices,
        default=ChargebackStatus.OPEN,
        db_default=ChargebackStatus.OPEN,
    )
    closed_at = models.DateTimeField(_("encerrado em"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registrado por"),
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("chargeback")
        verbose_name_plural = _("chargebacks")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["payment"], name="chargeback_one_per_payment"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="chargeback_amount_positive"),
        ]

    def __str__(self):
        return _("Chargeback de %(payment)s") % {"payment": self.payment_id}

    def get_absolute_url(self):
        return self.payment.invoice.get_absolute_url()


class CreditEntry(models.Model):
    """One movement of a customer's credit balance in one currency (Stripe's customer balance).

    The balance is the sum of the entries, never a stored number: `amount` > 0 is credit given to the
    customer (a downgrade's unused time, an overpayment, a manual credit), `amount` < 0 is credit used
    (applied to an invoice, refunded, a manual debit). Written only by billing.services.credit.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="credit_entries", verbose_name=_("lojista")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="credit_entries", verbose_name=_("cliente")
    )
    currency = models.CharField(_("moeda"), max_length=3)
    amount = models.BigIntegerField(_("valor"))
    reason = models.CharField(_("motivo"), max_length=20, choices=CreditReason.choices)
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
        verbose_name=_("fatura"),
    )
    payment = models.ForeignKey(
        "Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
        verbose_name=_("pagamento"),
    )
    refund = models.ForeignKey(
        "Refund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
        verbose_name=_("reembolso"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("feito por"),
    )
    note = models.TextField(_("observação"), blank=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("movimento de crédito")
        verbose_name_plural = _("movimentos de crédito")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="credit_entry_amount_not_zero"),
        ]
        indexes = [
            models.Index(fields=["customer", "currency", "created_at"], name="credit_entry_customer_idx"),
        ]

    def __str__(self):
        return _("Crédito %(amount)s (%(reason)s)") % {
            "amount": self.amount,
            "reason": self.get_reason_display(),
        }


class BillingRun(models.Model):
    """One pass of the billing run over one merchant's due work, with live progress for the screen."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="billing_runs", verbose_name=_("lojista")
    )
    trigger = models.CharField(
        _("origem"), max_length=10, choices=BillingRunTrigger.choices, default=BillingRunTrigger.SCHEDULE
    )
    status = models.CharField(
        _("situação"), max_length=10, choices=BillingRunStatus.choices, default=BillingRunStatus.RUNNING
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("iniciada por"),
    )
    started_at = models.DateTimeField(_("início"), auto_now_add=True)
    finished_at = models.DateTimeField(_("fim"), null=True, blank=True)
    due = models.PositiveIntegerField(_("a processar"), default=0)
    processed = models.PositiveIntegerField(_("processadas"), default=0)
    succeeded = models.PositiveIntegerField(_("bem-sucedidas"), default=0)
    failed = models.PositiveIntegerField(_("com falha"), default=0)
    chunks_total = models.PositiveIntegerField(_("lotes"), default=0)
    chunks_done = models.PositiveIntegerField(_("lotes concluídos"), default=0)
    # Why it failed: a code of BILLING_RUN_ERRORS and its params (shown in the reader's language); `error`
    # holds the text of runs from before the codes.
    error = models.TextField(_("erro"), blank=True)
    error_code = models.CharField(_("código do erro"), max_length=40, blank=True)
    error_params = models.JSONField(_("parâmetros do erro"), default=dict, blank=True)

    class Meta:
        verbose_name = _("execução de cobrança")
        verbose_name_plural = _("execuções de cobrança")
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return _("Execução nº %(pk)s") % {"pk": self.pk}

    def get_absolute_url(self):
        return reverse("billing:run_detail", kwargs={"pk": self.pk})

    @property
    def error_display(self) -> str:
        """Why it failed, in the active language: a coded error translated now, else the stored text."""
        return timeline.reason_text(
            self.error_code, self.error_params, self.error, messages=BILLING_RUN_ERRORS
        )

    @property
    def progress_percent(self) -> int:
        if not self.due:
            return 100 if self.status != BillingRunStatus.RUNNING else 0
        return min(100, round(100 * self.processed / self.due))


class BillingRunChunk(models.Model):
    """One chunk of a billing run: its subscriptions, who is working on it and, once done, its figures.

    The chunk rows are the run's bookkeeping: they are written with the run, in one transaction, so a
    crash while dispatching loses nothing; a worker claims the chunk (its heartbeat key, so the reaper
    knows whose death frees it) and marks it done with its counts under the run's row lock, exactly once,
    so a redelivered or retaken chunk is never counted twice; the run's figures are sums over its chunks,
    never increments."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Na fila")
        CLAIMED = "claimed", _("Em processamento")
        DONE = "done", _("Concluído")
        FAILED = "failed", _("Falhou")

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField(_("número"))
    subscription_ids = models.JSONField(_("assinaturas"), default=list)
    status = models.CharField(_("situação"), max_length=10, choices=Status.choices, default=Status.PENDING)
    claimed_by = models.CharField(_("processo"), max_length=120, blank=True)
    claimed_at = models.DateTimeField(_("assumido em"), null=True, blank=True)
    enqueued_at = models.DateTimeField(_("enfileirado em"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentativas"), default=0)
    processed = models.PositiveIntegerField(_("processadas"), default=0)
    succeeded = models.PositiveIntegerField(_("bem-sucedidas"), default=0)
    failed = models.PositiveIntegerField(_("com falha"), default=0)
    finished_at = models.DateTimeField(_("fim"), null=True, blank=True)

    class Meta:
        verbose_name = _("lote de execução")
        verbose_name_plural = _("lotes de execução")
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="billing_run_chunk_unique")]
        indexes = [models.Index(fields=["status", "run"], name="billing_chunk_status_run")]

    def __str__(self):
        return f"{self.run_id}/{self.number}"


class SandboxCharge(models.Model):
    """The sandbox gateway's own ledger, as a remote provider would keep it: what it was asked to charge
    under which idempotency key and what it answered. Nothing else in the app reads it."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=80, unique=True)
    reference = models.CharField(max_length=40, unique=True)
    token = models.CharField(max_length=100, blank=True)
    method = models.CharField(max_length=10)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10)
    failure_code = models.CharField(max_length=40, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    amount_refunded = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("cobrança no sandbox")
        verbose_name_plural = _("cobranças no sandbox")

    def __str__(self):
        return self.reference


class ProviderConnectionQuerySet(models.QuerySet):
    def engine(self) -> "ProviderConnectionQuerySet":
        """Active Stripe connections in our-engine mode: the merchants whose Stripe cards our billing run
        charges (billing.gateways.stripe_intents)."""
        return self.filter(provider=PaymentProvider.STRIPE, mode=StripeMode.ENGINE, is_active=True)


class ProviderConnection(models.Model):
    """A merchant's connection to a payment provider (Configurações > Pagamentos).

    Stripe: a restricted API key and the webhook signing secret, both encrypted at rest
    (core/fields.py: Fernet with CREDENTIALS_ENCRYPTION_KEYS, rotated by `manage.py rotate_credential_keys`)
    and never shown back — screens show the last four characters kept in clear beside them. `mode` says who
    charges renewals: Stripe's own billing (we mirror its events) or our billing run through PaymentIntents.
    PayPal: "manual tracking" — no credentials; subscriptions and their payments are recorded by hand.
    Stripe's webhooks reach us at a URL carrying `webhook_token` (the merchant is found by it, the
    signature is then checked with this connection's secret). API calls go through
    `billing.gateways.stripe.client_for(connection)`."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="provider_connections", verbose_name=_("lojista")
    )
    provider = models.CharField(_("provedor"), max_length=10, choices=PaymentProvider.choices)
    mode = models.CharField(
        _("modo"), max_length=10, choices=StripeMode.choices, blank=True, help_text=_("Só para a Stripe.")
    )
    api_key = EncryptedSecretField(_("chave de API restrita"), blank=True, editable=False)
    api_key_last4 = models.CharField(max_length=4, blank=True, editable=False)
    webhook_secret = EncryptedSecretField(_("segredo de assinatura do webhook"), blank=True, editable=False)
    webhook_secret_last4 = models.CharField(max_length=4, blank=True, editable=False)
    webhook_token = models.UUIDField(
        _("token da URL do webhook"), unique=True, default=uuid.uuid4, editable=False
    )
    account_id = models.CharField(_("conta no provedor"), max_length=100, blank=True)
    is_active = models.BooleanField(_("ativa"), default=True)
    checked_at = models.DateTimeField(_("conexão testada em"), null=True, blank=True)
    created_at = models.DateTimeField(_("criada em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizada em"), auto_now=True)

    objects = ProviderConnectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("conexão com provedor de pagamento")
        verbose_name_plural = _("conexões com provedores de pagamento")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "provider"], name="billing_provider_connection_unique"
            ),
            models.CheckConstraint(
                condition=Q(provider=PaymentProvider.STRIPE) | Q(mode=""),
                name="billing_provider_connection_mode_stripe_only",
            ),
        ]

    def __str__(self):
        return f"{self.merchant_id}/{self.provider}"

    @property
    def api_key_masked(self) -> str:
        return crypto.mask(self.api_key_last4)

    @property
    def webhook_secret_masked(self) -> str:
        return crypto.mask(self.webhook_secret_last4)

    # --- who bills a subscription with provider `stripe`: the mirror-mode rule, in one place ----------
    @staticmethod
    def billed_by_provider() -> Q:
        """The subscriptions whose provider bills them, so our billing run never renews them: provider
        `stripe` on a merchant without an active connection in our-engine mode (mirror mode: Stripe's own
        billing charges and its events bring the invoices here). A mirrored subscription recorded with the
        manual method (how the inbox creates them) is not charged by us either way: our run only drafts its
        invoice, which Stripe's invoice.paid then settles (billing/services/stripe_sync.py)."""
        engine = ProviderConnection.objects.engine().filter(merchant_id=OuterRef("merchant_id"))
        return Q(provider=PaymentProvider.STRIPE) & ~Q(payment_method=PaymentMethod.MANUAL) & ~Exists(engine)

    @staticmethod
    def provider_bills(subscription) -> bool:
        """`billed_by_provider` for one subscription."""
        return (
            subscription.provider == PaymentProvider.STRIPE
            and subscription.payment_method != PaymentMethod.MANUAL
            and not ProviderConnection.objects.engine().filter(merchant_id=subscription.merchant_id).exists()
        )


class ProviderEvent(models.Model):
    """An event a payment provider sent us (a Stripe webhook), stored raw before anything is done with it.

    The endpoint verifies the signature, stores the row and answers 2xx; a billing worker then applies it
    (billing/services/provider_events.py) in order per object (`object_key`: the subscription or customer
    it is about), never letting an older event overwrite newer state (ProviderObjectState.watermark).
    A redelivery of a processed event is acknowledged and not applied twice; a failed one is retried.
    Requests whose signature does not verify are kept too (signature_valid false, ignored) so a merchant
    who pasted the wrong secret sees them — outside the uniqueness, so a forged request cannot take the
    place of a real event's id."""

    # No index of its own: every index below starts with the merchant (one index fewer to update for each
    # delivery the webhook stores).
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("lojista"), db_index=False
    )
    provider = models.CharField(_("provedor"), max_length=10, choices=PaymentProvider.choices)
    event_id = models.CharField(_("id do evento"), max_length=100)
    type = models.CharField(_("tipo"), max_length=100)
    created = models.DateTimeField(_("criado no provedor"), null=True, blank=True)
    object_key = models.CharField(_("objeto"), max_length=120, blank=True)
    headers = models.JSONField(_("cabeçalhos"), default=dict)
    body = models.TextField(_("corpo"))
    signature_valid = models.BooleanField(_("assinatura válida"))
    received_at = models.DateTimeField(_("recebido em"), default=timezone.now)
    status = models.CharField(
        _("situação"), max_length=12, choices=ProviderEventStatus.choices, default=ProviderEventStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("tentativas"), default=0)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    processed_at = models.DateTimeField(_("processado em"), null=True, blank=True)
    # What processing did, as a code of billing/provider_notes.py and its params (shown in the reader's
    # language); `note` holds free text only: a provider's own words, and rows from before the codes.
    note = models.CharField(_("resultado"), max_length=300, blank=True)
    note_code = models.CharField(_("código do resultado"), max_length=40, blank=True)
    note_params = models.JSONField(_("parâmetros do resultado"), default=dict, blank=True)
    last_error = models.TextField(_("último erro"), blank=True)

    class Meta:
        verbose_name = _("evento recebido")
        verbose_name_plural = _("eventos recebidos")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "provider", "event_id"],
                condition=Q(signature_valid=True),
                name="billing_provider_event_unique",
            )
        ]
        indexes = [
            models.Index(fields=["merchant", "-received_at"], name="billing_pevent_merchant_recv"),
            models.Index(fields=["merchant", "status"], name="billing_pevent_merchant_status"),
            models.Index(fields=["merchant", "object_key", "created"], name="billing_pevent_object"),
            # What the processing batches, the drain and the sweep look for: small, however long the inbox.
            models.Index(
                fields=["merchant", "provider", "object_key"],
                condition=Q(status=ProviderEventStatus.PENDING, signature_valid=True),
                name="billing_pevent_pending",
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.type} {self.event_id}"

    def get_absolute_url(self):
        return reverse("billing:provider_event_detail", args=[self.pk])

    @property
    def note_display(self) -> str:
        """What processing did, in the active language: a coded note translated now, else the stored text."""
        return provider_notes.note_text(self.note_code, self.note_params, self.note)


class ProviderObjectState(models.Model):
    """Per provider object (a Stripe subscription or customer): the `created` time of the newest event
    applied to it. Its row is also the lock that keeps one object's events in order across workers."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=10, choices=PaymentProvider.choices)
    object_key = models.CharField(max_length=120)
    watermark = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("estado de objeto no provedor")
        verbose_name_plural = _("estados de objetos no provedor")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "provider", "object_key"], name="billing_provider_object_unique"
            )
        ]

    def __str__(self):
        return f"{self.provider} {self.object_key}"
