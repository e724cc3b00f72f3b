from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from core.fields import ChoiceLabelsMixin
from core.money import format_money
from core.percent import DISCOUNT_PERCENT
from plans.periods import add_months
from subscribers import timeline
from subscribers.choices import (
    ALLOWED_ACTIONS,
    ENDED_STATUSES,
    LIVE_SCHEDULE_STATUSES,
    CancelOrigin,
    CancelWhen,
    DiscountType,
    EventKind,
    ExportFormat,
    ExportStatus,
    PaymentMethod,
    PhaseAnchor,
    PhaseKind,
    PhaseProration,
    PriceNoticeStatus,
    ResumeMode,
    ScheduleEndBehavior,
    ScheduleStatus,
    SubscriptionAction,
    SubscriptionOrigin,
    SubscriptionStatus,
    method_is_refundable,
)
from subscribers.validators import (
    STATE_CHOICES,
    STATE_MESSAGE,
    format_phone,
    normalize_email,
    validate_document,
    validate_handle,
    validate_phone,
    validate_postal_code,
)

EMAIL_TAKEN_CODE = "email_taken"
EMAIL_TAKEN_MESSAGE = _("Já existe um cliente com este e-mail.")


# Assinantes' search box reads the subscription's own columns (`Subscription.search_text` and `provider_id`):
# search_text is the customer's name, e-mail, handle and CPF/CNPJ digits, as stored, each followed by a
# separator no search can contain (subscribers.selectors.subscriber_search). It lives on the subscription so
# that one table's statistics decide how PostgreSQL finds a page of matches (see the trigram index in
# migration 0008). Kept current by Subscription.save() and Customer.save(): every writer (services, admin,
# factories) goes through them; the billing batch's bulk UPDATE never touches these fields. A bulk_create
# of subscriptions or a QuerySet.update() of these customer fields would skip them: the app does neither.
SEARCH_SEPARATOR = "\x1f"
CUSTOMER_SEARCH_FIELDS = ("name", "email", "handle", "document")

# A customer's postal address (Brazilian), optional as a block. When any part is given, these are required
# too (Customer.clean): what a letter or a boleto's "sacado" needs. Complemento and bairro stay optional (a
# house has no complemento; small towns have one CEP and no bairro; Stripe's addresses carry none).
ADDRESS_FIELDS = (
    "address_postal_code",
    "address_street",
    "address_number",
    "address_complement",
    "address_district",
    "address_city",
    "address_state",
)
ADDRESS_REQUIRED_FIELDS = (
    "address_postal_code",
    "address_street",
    "address_number",
    "address_city",
    "address_state",
)
ADDRESS_INCOMPLETE_MESSAGE = _("Obrigatório num endereço.")


class SearchTextPart(models.Func):
    """The `position`-th field (1: name, 2: e-mail) of `Subscription.search_text`, i.e. the customer's own
    field: Assinantes sorts by it, through an index on the subscription, instead of joining the customers
    and sorting every row (see Subscription.Meta.indexes)."""

    output_field = models.TextField()

    def __init__(self, position: int):
        super().__init__(models.F("search_text"))
        self.position = int(position)

    def as_postgresql(self, compiler, connection, **extra):
        text, params = compiler.compile(self.source_expressions[0])
        return f"split_part({text}, chr(31), {self.position})", params

    def as_sql(self, compiler, connection, **extra):
        # SQLite has no split_part: drop the fields before, then cut at the next separator.
        rest, params = compiler.compile(self.source_expressions[0])  # a column: no parameters to repeat
        for _skipped in range(self.position - 1):
            rest = f"substr({rest}, instr({rest}, char(31)) + 1)"
        return f"substr({rest}, 1, instr({rest}, char(31)) - 1)", params


def customer_search_prefix(customer) -> str:
    """`Subscription.search_text` for a subscription of `customer`."""
    return "".join(getattr(customer, field) + SEARCH_SEPARATOR for field in CUSTOMER_SEARCH_FIELDS)


class Customer(models.Model):
    """A merchant's customer (the subscriber). E-mail is unique per merchant, compared case-insensitively
    (stored lower-cased); CPF/CNPJ is stored as digits only."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="customers", verbose_name=_("lojista")
    )
    name = models.CharField(_("nome"), max_length=150)
    email = models.EmailField(_("e-mail"), max_length=254)
    handle = models.CharField(
        _("@usuário"), max_length=60, blank=True, help_text=_("Sem o @."), validators=[validate_handle]
    )
    document = models.CharField(
        _("CPF/CNPJ"),
        max_length=14,
        blank=True,
        help_text=_("Somente números."),
        validators=[validate_document],
    )
    phone = models.CharField(
        _("telefone"), max_length=20, blank=True, help_text=_("Formato E.164."), validators=[validate_phone]
    )
    # The postal address: all blank, or complete enough to post a letter (ADDRESS_REQUIRED_FIELDS).
    address_postal_code = models.CharField(
        _("CEP"), max_length=9, blank=True, help_text=_("00000-000."), validators=[validate_postal_code]
    )
    address_street = models.CharField(_("logradouro"), max_length=150, blank=True)
    address_number = models.CharField(_("número"), max_length=20, blank=True, help_text=_("Ou s/n."))
    address_complement = models.CharField(_("complemento"), max_length=100, blank=True)
    address_district = models.CharField(_("bairro"), max_length=100, blank=True)
    address_city = models.CharField(_("cidade"), max_length=100, blank=True)
    address_state = models.CharField(
        _("UF"),
        max_length=2,
        blank=True,
        choices=STATE_CHOICES,
        error_messages={"invalid_choice": STATE_MESSAGE},
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("cliente")
        verbose_name_plural = _("clientes")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "email"],
                name="customer_unique_email_per_merchant",
                violation_error_message=EMAIL_TAKEN_MESSAGE,
                violation_error_code=EMAIL_TAKEN_CODE,
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "name"], name="customer_merchant_name_idx"),
            models.Index(fields=["merchant", "document"], name="customer_merchant_document_idx"),
            models.Index(Upper("handle"), "merchant", name="customer_merchant_handle_idx"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        adding = self._state.adding
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if adding or (update_fields is not None and not set(update_fields) & set(CUSTOMER_SEARCH_FIELDS)):
            return
        # The customer's subscriptions search by these fields: one UPDATE, in the caller's transaction.
        self.subscriptions.update(search_text=customer_search_prefix(self))

    def get_absolute_url(self):
        return reverse("subscribers:customer_detail", kwargs={"pk": self.pk})

    def clean(self):
        # Here as well as in the services, so the admin and any ModelForm compare e-mails the same way.
        self.email = normalize_email(self.email)
        if self.has_address:
            missing = [field for field in ADDRESS_REQUIRED_FIELDS if not getattr(self, field)]
            if missing:
                raise ValidationError(
                    {
                        field: ValidationError(ADDRESS_INCOMPLETE_MESSAGE, code="address_incomplete")
                        for field in missing
                    }
                )

    def clean_fields(self, exclude=None):
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            postal_code = errors.get("address_postal_code", [])
            if any(error.code == "invalid_postal_code" for error in postal_code):
                # "01310-1000" is a wrong CEP: one message that says how to write it, not also its length.
                errors["address_postal_code"] = [e for e in postal_code if e.code == "invalid_postal_code"]
            raise ValidationError(errors) from None

    def validate_constraints(self, exclude=None):
        # Django reports a two-field constraint as a form-wide error; the clash is the e-mail's, so it is
        # moved next to the e-mail field, where the person typing can fix it.
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            taken = [error for error in general if error.code == EMAIL_TAKEN_CODE]
            if taken:
                errors.setdefault("email", []).extend(taken)
            rest = [error for error in general if error.code != EMAIL_TAKEN_CODE]
            if rest:
                errors[NON_FIELD_ERRORS] = rest
            raise ValidationError(errors) from None

    @property
    def document_type(self) -> str:
        return {11: "CPF", 14: "CNPJ"}.get(len(self.document), "")

    @property
    def document_display(self) -> str:
        d = self.document
        if len(d) == 11:
            return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"
        if len(d) == 14:
            return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"
        return d

    @property
    def phone_display(self) -> str:
        """ "(11) 91234-5678" (E.164 is what is stored); a value kept from before validation as it was."""
        return format_phone(self.phone)

    @property
    def has_address(self) -> bool:
        return any(getattr(self, field) for field in ADDRESS_FIELDS)

    @property
    def address_lines(self) -> list[str]:
        """The address as written on an envelope: "Av. Paulista, 1000 — Apto 12", "Bela Vista",
        "São Paulo – SP", "01310-100" (empty parts left out); [] without an address."""
        if not self.has_address:
            return []
        street = ", ".join(part for part in (self.address_street, self.address_number) if part)
        if self.address_complement:
            street = f"{street} — {self.address_complement}" if street else self.address_complement
        city = " – ".join(part for part in (self.address_city, self.address_state) if part)
        return [line for line in (street, self.address_district, city, self.address_postal_code) if line]

    @property
    def phone_needs_review(self) -> bool:
        """A phone saved before phones were validated that could not be normalised (see migration 0010)."""
        return bool(self.phone) and not self.phone.startswith("+")


class Subscription(ChoiceLabelsMixin, models.Model):
    """A customer's contract for a plan. Its status moves only through subscribers.services."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="subscriptions", verbose_name=_("lojista")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("cliente")
    )
    plan = models.ForeignKey(
        "plans.Plan", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("plano")
    )
    quantity = models.PositiveIntegerField(_("quantidade"), default=1, validators=[MinValueValidator(1)])
    status = models.CharField(
        _("situação"), max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.PENDING
    )
    payment_method = models.CharField(
        _("forma de pagamento"), max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.CARD
    )
    origin = models.CharField(
        _("origem"), max_length=10, choices=SubscriptionOrigin.choices, default=SubscriptionOrigin.SCREEN
    )
    provider = models.CharField(_("provedor"), max_length=30, blank=True)
    provider_id = models.CharField(_("id no provedor"), max_length=100, blank=True)
    # The card on file as the gateway knows it (the sandbox takes its test card numbers as tokens).
    payment_token = models.CharField(_("token do meio de pagamento"), max_length=100, blank=True)
    card_brand = models.CharField(_("bandeira"), max_length=20, blank=True)
    card_last4 = models.CharField(_("final do cartão"), max_length=4, blank=True)
    currency = models.CharField(_("moeda"), max_length=3, default="BRL")
    # Price per period after quantity and discount, in minor units (see subscribers.pricing).
    amount = models.BigIntegerField(_("valor"), default=0)
    discount_type = models.CharField(
        _("tipo de desconto"),
        max_length=10,
        choices=DiscountType.choices,
        default=DiscountType.NONE,
        blank=True,
    )
    discount_percent = models.DecimalField(
        _("desconto (%)"),
        null=True,
        blank=True,
        **DISCOUNT_PERCENT.model_field_kwargs(),
    )
    discount_amount = models.BigIntegerField(
        _("desconto (valor)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    discount_periods = models.PositiveSmallIntegerField(
        _("desconto por N períodos"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Vazio: para sempre."),
    )
    coupon = models.ForeignKey(
        "plans.Coupon",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subscriptions",
        verbose_name=_("cupom"),
    )
    coupon_applied_at = models.DateTimeField(_("cupom aplicado em"), null=True, blank=True)
    tax_rates = models.ManyToManyField(
        "plans.TaxRate", blank=True, related_name="subscriptions", verbose_name=_("impostos")
    )
    # A plan or quantity change chosen "no próximo ciclo" waits here until the next renewal applies it.
    pending_plan = models.ForeignKey(
        "plans.Plan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plano a partir do próximo ciclo"),
    )
    pending_quantity = models.PositiveIntegerField(
        _("quantidade a partir do próximo ciclo"), null=True, blank=True
    )
    # The plan's price version this subscription is billed at (grandfathered: a new plan price does not
    # reach it until the merchant migrates it). A migration waits in next_plan_price until the first
    # period starting at or after next_plan_price_from (the end of the notice); see `plan_price_at`.
    plan_price = models.ForeignKey(
        "plans.PlanPrice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("versão de preço"),
    )
    next_plan_price = models.ForeignKey(
        "plans.PlanPrice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("próxima versão de preço"),
    )
    next_plan_price_from = models.DateTimeField(
        _("próxima versão de preço a partir de"), null=True, blank=True, editable=False
    )
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sold_subscriptions",
        verbose_name=_("vendedor responsável"),
    )
    notify_customer = models.BooleanField(_("avisar o cliente"), default=False)
    contract_date = models.DateField(_("data de contratação"))
    billing_cycle_anchor = models.DateTimeField(_("âncora do ciclo de cobrança"))
    started_at = models.DateTimeField(_("iniciada em"), null=True, blank=True)
    trial_ends_at = models.DateTimeField(_("fim do teste"), null=True, blank=True)
    current_period_start = models.DateTimeField(_("início do período atual"), null=True, blank=True)
    current_period_end = models.DateTimeField(_("fim do período atual"), null=True, blank=True)
    # When the billing run must invoice the next period (None: nothing more to invoice).
    next_invoice_at = models.DateTimeField(_("próxima fatura em"), null=True, blank=True)
    # A backdated contract whose merchant chose to charge the time already passed, prorated: where that
    # time starts (the contract date's midnight). The first invoice charges it beside its period (billing)
    # and clears it; the billing run's bulk path leaves such subscriptions to the per-subscription path.
    backdate_charge_from = models.DateTimeField(_("cobrar o tempo retroativo desde"), null=True, blank=True)
    access_revoked_at = models.DateTimeField(_("acesso revogado em"), null=True, blank=True)
    # The cancellation record: requested when, effective when, by whom, why, access until.
    cancel_requested_at = models.DateTimeField(_("cancelamento pedido em"), null=True, blank=True)
    cancel_when = models.CharField(_("cancelar"), max_length=12, choices=CancelWhen.choices, blank=True)
    cancel_at = models.DateTimeField(_("cancelamento efetivo em"), null=True, blank=True)
    cancel_origin = models.CharField(_("quem pediu"), max_length=10, choices=CancelOrigin.choices, blank=True)
    cancel_reason = models.TextField(_("motivo"), blank=True)
    # A reason the system words itself (the schedule ended, dunning gave up, …) is a code and its
    # parameters, translated when shown (subscribers/timeline.py); `cancel_reason` is then "" (it holds
    # only what a person typed).
    cancel_reason_code = models.CharField(_("código do motivo"), max_length=40, blank=True)
    cancel_reason_params = models.JSONField(_("parâmetros do motivo"), default=dict, blank=True)
    canceled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="canceled_subscriptions",
        verbose_name=_("cancelada por"),
    )
    ended_at = models.DateTimeField(_("encerrada em"), null=True, blank=True)
    # Pause (subscribers.services.pause): when a scheduled pause starts, when the running one began, when
    # it is resumed (by the due task; None: by hand) and how the resume bills.
    pause_at = models.DateTimeField(_("pausa agendada para"), null=True, blank=True)
    paused_at = models.DateTimeField(_("pausada em"), null=True, blank=True)
    resume_at = models.DateTimeField(_("retomada agendada para"), null=True, blank=True)
    resume_mode = models.CharField(_("ao retomar"), max_length=12, choices=ResumeMode.choices, blank=True)
    access_until = models.DateTimeField(_("acesso até"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_subscriptions",
        verbose_name=_("criada por"),
    )
    created_at = models.DateTimeField(_("criada em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizada em"), auto_now=True)
    # The customer's fields Assinantes' search matches (see SEARCH_SEPARATOR); written by save() and
    # Customer.save().
    search_text = models.TextField(_("texto de busca"), blank=True, default="", editable=False)
    # The newest payment's status (billing.services.last_payment keeps it whenever a payment is written), so
    # Assinantes and its export read it from the row instead of looking it up for every subscription.
    last_payment_status = models.CharField(
        _("último pagamento"), max_length=20, blank=True, default="", db_default="", editable=False
    )
    # A one-off price set by a schedule phase ("R$ 500 por mês, 6 vezes" without a plan): {"name",
    # "amount", "interval_unit", "interval_count"}. While set, billing charges it instead of the plan's
    # price (see `price_terms`); the plan stays the one the subscription was sold with.
    custom_price = models.JSONField(_("preço avulso"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("assinatura")
        verbose_name_plural = _("assinaturas")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # Assinantes (subscribers.selectors.subscriber_list_queryset) is ordered by (contract_date, id),
            # newest first. Each of these gives one filter's rows already in that order, so a page is a
            # short index walk with no sort, and the last page is the same walk from the other end
            # (core.pagination.LargeListPaginator); bench/subscribers.py measures them at 1M rows.
            # No filter, and "Assinou" (presets and range); also the dashboard's new-subscription counts.
            models.Index(fields=["merchant", "contract_date", "id"], name="sub_merchant_contract_idx"),
            # Status filter; also the dashboard's and the billing screens' counts per status.
            models.Index(
                fields=["merchant", "status", "contract_date", "id"], name="sub_merchant_status_idx"
            ),
            # The "Assinantes inativos" export shortcut (group=inactive: canceled, expired, refunded).
            models.Index(
                fields=["merchant", "contract_date", "id"],
                condition=models.Q(status__in=sorted(ENDED_STATUSES)),
                name="sub_merchant_inactive_idx",
            ),
            models.Index(
                fields=["merchant", "payment_method", "contract_date", "id"], name="sub_merchant_method_idx"
            ),
            models.Index(fields=["merchant", "plan", "contract_date", "id"], name="sub_merchant_plan_idx"),
            # The salesperson filter, and the Vendedor sort read salesperson by salesperson (GroupWalk).
            models.Index(
                fields=["merchant", "salesperson", "contract_date", "id"], name="sub_merchant_salesperson_idx"
            ),
            models.Index(
                fields=["merchant", "cancel_origin", "contract_date", "id"],
                name="sub_merchant_cancel_origin_idx",
            ),
            # A payment provider's id (Stripe's sub_…): every inbound Stripe event about a subscription finds
            # ours by it (billing.services.stripe_sync.local_subscription). Only rows that have one.
            models.Index(
                fields=["merchant", "provider", "provider_id"],
                condition=~models.Q(provider_id=""),
                name="sub_merchant_provider_id_idx",
            ),
            # "Cancelada de/até" (a range of ended_at) and the dashboard's cancellations per period.
            # Cancelada de/até: the range's rows with what the list sorts them by, read index-only
            # (selectors.subscriber_order_sorting_matches).
            models.Index(
                fields=["merchant", "ended_at", "contract_date", "id"], name="sub_merchant_ended_sort_idx"
            ),
            # The list's sorts (core.pagination reads a page's ids from these, no sort of every row): by
            # the customer's name and e-mail through search_text (which holds them, kept by save()), by
            # amount and by last payment; status, payment method and "Assinou em" use the filters' indexes.
            models.Index("merchant", SearchTextPart(1), "id", name="sub_merchant_sort_name_idx"),
            models.Index("merchant", SearchTextPart(2), "id", name="sub_merchant_sort_email_idx"),
            models.Index(fields=["merchant", "amount", "id"], name="sub_merchant_sort_amount_idx"),
            models.Index(
                fields=["merchant", "last_payment_status", "id"], name="sub_merchant_sort_lastpay_idx"
            ),
            models.Index(fields=["status", "cancel_at"], name="sub_due_cancel_idx"),
            models.Index(fields=["status", "billing_cycle_anchor"], name="sub_due_start_idx"),
            models.Index(fields=["status", "next_invoice_at"], name="sub_due_invoice_idx"),
            # The due task's scheduled pauses and resumes (few rows: partial).
            models.Index(
                fields=["pause_at"], condition=models.Q(pause_at__isnull=False), name="sub_due_pause_idx"
            ),
            models.Index(
                fields=["resume_at"], condition=models.Q(resume_at__isnull=False), name="sub_due_resume_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="subscription_quantity_positive"
            ),
        ]

    def __str__(self):
        return _("Assinatura #%(pk)s — %(plan)s") % {"pk": self.pk, "plan": self.plan_id and self.plan.name}

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"customer", "customer_id"} & set(update_fields):
            self.search_text = customer_search_prefix(self.customer)
            if update_fields is not None:
                kwargs["update_fields"] = [*update_fields, "search_text"]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("subscribers:subscription_detail", kwargs={"pk": self.pk})

    def can(self, action, *, today=None) -> bool:
        """True when `action` is allowed now, from the one table in subscribers.choices."""
        if action == SubscriptionAction.DELETE:
            return self.can_delete(today=today)
        if self.status not in ALLOWED_ACTIONS[action]:
            return False
        if action == SubscriptionAction.CANCEL and self.cancel_at is not None:
            return False  # already scheduled to end; the page shows when
        if action == SubscriptionAction.REFUND:
            return method_is_refundable(self.payment_method)
        if action == SubscriptionAction.READD:
            return self.cancel_at is None
        if action == SubscriptionAction.PAUSE:
            return self.cancel_at is None and self.pause_at is None
        if action == SubscriptionAction.REVERT_CANCEL:
            # The due task ends it at cancel_at; until then the cancellation may be taken back.
            return self.cancel_at is not None and self.cancel_at > timezone.now()
        if action == SubscriptionAction.CHANGE_CARD:
            return self.payment_method == PaymentMethod.CARD
        return True

    @property
    def delete_deadline(self):
        """Last day on which the subscription may still be deleted: one calendar month after contract."""
        return add_months(self.contract_date, 1)

    def can_delete(self, *, today=None) -> bool:
        today = today or self.merchant.localdate()
        return today <= self.delete_deadline

    @property
    def cancel_reason_display(self) -> str:
        """The cancellation's reason in the active language: a coded one translated now, else the text
        a person typed."""
        return timeline.reason_text(self.cancel_reason_code, self.cancel_reason_params, self.cancel_reason)

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED_STATUSES

    @property
    def next_charge_at(self):
        """When the next charge is due, or None when nothing more will be charged."""
        return next_charge_at(
            status=self.status,
            started_at=self.started_at,
            billing_cycle_anchor=self.billing_cycle_anchor,
            cancel_at=self.cancel_at,
            current_period_end=self.current_period_end,
        )

    def plan_price_at(self, period_start=None) -> int:
        """The plan price (per unit, minor units) this subscription pays for the period starting at
        `period_start` (None: the period being billed now): the one place every billing path reads it."""
        return plan_price_at(
            plan_price=self.plan.price,
            contracted=self.plan_price.amount if self._on_own_version() else None,
            scheduled=self.next_plan_price.amount if self.next_plan_price_id else None,
            scheduled_from=self.next_plan_price_from,
            period_start=period_start or self.next_invoice_at,
        )

    def _on_own_version(self) -> bool:
        # A version of another plan (the plan changed by a path that kept the old version) is not ours.
        return self.plan_price_id is not None and self.plan_price.plan_id == self.plan_id

    @property
    def price_terms(self) -> "PriceTerms":
        """What one period costs and how long it is: the schedule phase's one-off price, else the plan at
        the price version in force for the period being billed."""
        return price_terms(self.plan, self.custom_price, price=self.plan_price_at())

    @property
    def live_schedule(self):
        """The schedule steering this subscription (not started or running), or None."""
        return self.schedules.filter(status__in=sorted(LIVE_SCHEDULE_STATUSES)).first()

    @property
    def discount_display(self) -> str:
        if self.discount_type == DiscountType.PERCENT:
            return f"{self.discount_percent.normalize():f}%"
        if self.discount_type == DiscountType.FIXED:
            return format_money(self.discount_amount, self.currency)
        return ""


@dataclass(frozen=True)
class PriceTerms:
    """Read like a Plan by billing's renewal engine (name, price, interval_unit, interval_count,
    installments)."""

    name: str
    price: int
    interval_unit: str
    interval_count: int
    installments: int | None = None


def plan_price_at(
    *, plan_price: int, contracted: int | None, scheduled: int | None, scheduled_from, period_start
):
    """The plan price a subscription pays for the period starting at `period_start`: the migrated version
    (`scheduled`) from the first period starting at or after the notice's end (`scheduled_from`), else the
    version it was contracted on (`contracted`), else — a row from before price versions — the plan's.
    Pure, so the renewal engine, the bulk writer and the previews all read it the same way."""
    due = scheduled_from is not None and period_start is not None and period_start >= scheduled_from
    if scheduled is not None and due:
        return scheduled
    return plan_price if contracted is None else contracted


def price_terms(plan, custom_price: dict | None, *, price: int | None = None):
    """The plan itself (at `price`, the subscription's price version, when given), or a one-off price
    (`Subscription.custom_price`) read like one."""
    if not custom_price:
        if price is None or price == plan.price:
            return plan
        return PriceTerms(
            name=plan.name,
            price=price,
            interval_unit=plan.interval_unit,
            interval_count=plan.interval_count,
            installments=plan.installments,
        )
    return PriceTerms(
        name=custom_price["name"],
        price=int(custom_price["amount"]),
        interval_unit=custom_price["interval_unit"],
        interval_count=int(custom_price["interval_count"]),
    )


NEXT_CHARGE_AT_ANCHOR = "anchor"
NEXT_CHARGE_AT_PERIOD_END = "period_end"


def next_charge_source(*, status, started: bool, cancels_by_period_end: bool) -> str | None:
    """Which date is the next charge: the billing-cycle anchor (not started yet), the current period's
    end, or none (ended, or cancelling by then). From plain values, so exports can skip model instances."""
    if status in ENDED_STATUSES or status == SubscriptionStatus.SCHEDULED and not started:
        return NEXT_CHARGE_AT_ANCHOR if status == SubscriptionStatus.SCHEDULED else None
    if cancels_by_period_end:
        return None
    return NEXT_CHARGE_AT_PERIOD_END


def next_charge_at(*, status, started_at, billing_cycle_anchor, cancel_at, current_period_end):
    """When the next charge is due, or None when nothing more will be charged."""
    source = next_charge_source(
        status=status,
        started=started_at is not None,
        cancels_by_period_end=bool(
            cancel_at is not None and current_period_end and cancel_at <= current_period_end
        ),
    )
    if source == NEXT_CHARGE_AT_ANCHOR:
        return billing_cycle_anchor
    if source == NEXT_CHARGE_AT_PERIOD_END:
        return current_period_end
    return None


class SubscriptionEvent(models.Model):
    """The audit timeline of one subscription: who did what, from which status to which, and why."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("lojista")
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="events", verbose_name=_("assinatura")
    )
    kind = models.CharField(_("evento"), max_length=20, choices=EventKind.choices)
    from_status = models.CharField(_("de"), max_length=20, choices=SubscriptionStatus.choices, blank=True)
    to_status = models.CharField(_("para"), max_length=20, choices=SubscriptionStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("quem"),
    )
    origin = models.CharField(_("origem"), max_length=10, choices=CancelOrigin.choices, blank=True)
    reason = models.TextField(_("motivo"), blank=True)
    # A line the system writes is a code and its parameters, translated when shown (subscribers/timeline.py).
    reason_code = models.CharField(_("código do motivo"), max_length=40, blank=True)
    reason_params = models.JSONField(_("parâmetros do motivo"), default=dict, blank=True)
    data = models.JSONField(_("detalhes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("quando"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("evento da assinatura")
        verbose_name_plural = _("eventos da assinatura")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} — #{self.subscription_id}"

    @property
    def reason_display(self) -> str:
        """The reason in the active language: the coded line translated now, else the stored text."""
        return timeline.reason_text(self.reason_code, self.reason_params, self.reason)


class SubscriptionTombstone(models.Model):
    """What remains of a deleted subscription: who deleted it, when, and a snapshot (owners see it)."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="subscription_tombstones", verbose_name=_("lojista")
    )
    subscription_pk = models.BigIntegerField(_("assinatura nº"))
    customer_name = models.CharField(_("cliente"), max_length=150)
    plan_name = models.CharField(_("plano"), max_length=120)
    snapshot = models.JSONField(_("cópia dos dados"), default=dict)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("excluída por"),
    )
    deleted_at = models.DateTimeField(_("excluída em"), default=timezone.now)

    class Meta:
        verbose_name = _("assinatura excluída")
        verbose_name_plural = _("assinaturas excluídas")
        ordering = ["-deleted_at", "-pk"]

    def __str__(self):
        return _("Assinatura #%(pk)s excluída") % {"pk": self.subscription_pk}


class SubscriberExport(models.Model):
    """One CSV export of Assinantes, for the merchant's audit: who exported which filter, when, and how
    many rows went out. Created when the download starts; the stream records how it ended."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="subscriber_exports", verbose_name=_("lojista")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("quem exportou"),
    )
    # The export's own parameters (filters, sort, delimiter, format) as sent, so it can be run again.
    query = models.JSONField(_("parâmetros"), default=dict, blank=True)
    # The filters as the person chose them, [name, value] pairs (a choice's code, a date in ISO, a plan's or
    # person's name as it was, ["sort", "-column"]), named in the reader's language when shown
    # (subscribers.tables.export_description). `description` holds the text of exports from before them,
    # worded in the exporting person's language.
    filters = models.JSONField(_("filtros escolhidos"), default=list, blank=True)
    description = models.TextField(_("filtros"), blank=True)
    output_format = models.CharField(
        _("formato"), max_length=10, choices=ExportFormat.choices, default=ExportFormat.HUMAN
    )
    delimiter = models.CharField(_("separador"), max_length=1, default=";")
    status = models.CharField(
        _("situação"), max_length=12, choices=ExportStatus.choices, default=ExportStatus.STARTED
    )
    row_count = models.PositiveBigIntegerField(_("linhas"), null=True, blank=True)
    created_at = models.DateTimeField(_("iniciada em"), default=timezone.now)
    finished_at = models.DateTimeField(_("terminada em"), null=True, blank=True)

    class Meta:
        verbose_name = _("exportação de assinantes")
        verbose_name_plural = _("exportações de assinantes")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The Exportações page: one merchant's exports, newest first.
            models.Index(fields=["merchant", "-created_at", "-id"], name="subexport_merchant_created_idx"),
        ]

    def __str__(self):
        return _("Exportação #%(pk)s") % {"pk": self.pk}


class SubscriptionSchedule(models.Model):
    """A subscription's planned future (a Programação): phases that run one after another, each with its
    own terms, and what happens when the last one ends. Its status moves only through
    subscribers.services.schedules; billing enters each phase at its start (billing.services.schedules).

    `current_position` is the phase running now (None before the first); `next_phase_at` is when billing
    must act next: the next phase's start, or the last phase's end (None once the schedule is over)."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("lojista")
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="schedules", verbose_name=_("assinatura")
    )
    status = models.CharField(
        _("situação"), max_length=12, choices=ScheduleStatus.choices, default=ScheduleStatus.NOT_STARTED
    )
    end_behavior = models.CharField(
        _("ao terminar"),
        max_length=10,
        choices=ScheduleEndBehavior.choices,
        default=ScheduleEndBehavior.RELEASE,
    )
    current_position = models.PositiveSmallIntegerField(_("fase atual"), null=True, blank=True)
    next_phase_at = models.DateTimeField(_("próxima mudança em"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("programada por"),
    )
    created_at = models.DateTimeField(_("criada em"), default=timezone.now)
    updated_at = models.DateTimeField(_("atualizada em"), auto_now=True)
    ended_at = models.DateTimeField(_("encerrada em"), null=True, blank=True)

    class Meta:
        verbose_name = _("programação")
        verbose_name_plural = _("programações")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=models.Q(status__in=sorted(LIVE_SCHEDULE_STATUSES)),
                name="schedule_one_live_per_subscription",
            ),
        ]
        indexes = [
            # The billing run's due work: live schedules whose next change has come.
            models.Index(fields=["status", "next_phase_at"], name="schedule_due_idx"),
        ]

    def __str__(self):
        return _("Programação da assinatura #%(pk)s") % {"pk": self.subscription_id}

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_SCHEDULE_STATUSES


class SchedulePhase(models.Model):
    """One phase of a schedule: its terms (a plan or a one-off price, quantity, coupon or discount, tax
    rates, trial), how it ends (an end date or a number of billing periods), and what entering it does
    (proration, anchor). `start_at`/`end_at` are computed from the sequence by the schedule's service on
    every save; they are never typed. A pause can later be one more kind of interval in the same
    sequence: every later phase's dates move with it."""

    schedule = models.ForeignKey(
        SubscriptionSchedule, on_delete=models.CASCADE, related_name="phases", verbose_name=_("programação")
    )
    position = models.PositiveSmallIntegerField(_("ordem"))
    start_at = models.DateTimeField(_("início"))
    end_at = models.DateTimeField(_("fim"))
    plan = models.ForeignKey(
        "plans.Plan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plano"),
    )
    price_name = models.CharField(_("descrição do preço avulso"), max_length=120, blank=True)
    price_amount = models.BigIntegerField(_("preço avulso"), null=True, blank=True)
    price_interval_unit = models.CharField(_("a cada"), max_length=10, blank=True)
    price_interval_count = models.PositiveSmallIntegerField(_("intervalo"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("quantidade"), default=1, validators=[MinValueValidator(1)])
    coupon = models.ForeignKey(
        "plans.Coupon",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cupom"),
    )
    discount_percent = models.DecimalField(
        _("desconto (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    tax_rates = models.ManyToManyField(
        "plans.TaxRate", blank=True, related_name="+", verbose_name=_("impostos")
    )
    trial_days = models.PositiveSmallIntegerField(_("dias de teste"), null=True, blank=True)
    end_date = models.DateTimeField(_("termina em"), null=True, blank=True)
    iterations = models.PositiveSmallIntegerField(_("períodos"), null=True, blank=True)
    proration = models.CharField(
        _("ao entrar"), max_length=10, choices=PhaseProration.choices, default=PhaseProration.PRORATE
    )
    anchor = models.CharField(
        _("ciclo de cobrança"), max_length=12, choices=PhaseAnchor.choices, default=PhaseAnchor.AUTOMATIC
    )
    # A pause block (kind `pause`) has no terms: the subscription is paused from its start to its end
    # (`end_date`) and resumed with `resume_mode`, by the pause services (subscribers.services.pause).
    kind = models.CharField(_("tipo"), max_length=10, choices=PhaseKind.choices, default=PhaseKind.TERMS)
    resume_mode = models.CharField(_("ao retomar"), max_length=12, choices=ResumeMode.choices, blank=True)

    class Meta:
        verbose_name = _("fase da programação")
        verbose_name_plural = _("fases da programação")
        ordering = ["schedule", "position"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "position"], name="schedule_phase_unique_position"),
        ]

    def __str__(self):
        return _("Fase %(n)s") % {"n": self.position + 1}

    @property
    def is_pause(self) -> bool:
        return self.kind == PhaseKind.PAUSE

    @property
    def price(self):
        """The plan, or the one-off price read like one."""
        return price_terms(self.plan, self.custom_price)

    @property
    def custom_price(self) -> dict | None:
        if self.plan_id is not None or self.price_amount is None:
            return None
        return {
            "name": self.price_name or str(_("Preço avulso")),
            "amount": self.price_amount,
            "interval_unit": self.price_interval_unit,
            "interval_count": self.price_interval_count or 1,
        }


class PriceChangeNotice(models.Model):
    """The notice one subscription got of its plan's new price: old and new amount per period, when the
    notice ends and the first renewal that charges the new price. Written in bulk when a merchant
    migrates a plan's subscriptions (subscribers.services.price_changes); the renewal that applies it, or
    the subscription ending first, moves it along PRICE_NOTICE_TRANSITIONS."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("lojista")
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="price_notices", verbose_name=_("assinatura")
    )
    old_price = models.ForeignKey(
        "plans.PlanPrice",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("versão anterior"),
    )
    new_price = models.ForeignKey(
        "plans.PlanPrice", on_delete=models.PROTECT, related_name="notices", verbose_name=_("nova versão")
    )
    currency = models.CharField(_("moeda"), max_length=3)
    old_amount = models.BigIntegerField(_("valor atual"))
    new_amount = models.BigIntegerField(_("novo valor"))
    notified_at = models.DateTimeField(_("avisado em"))
    notice_ends_at = models.DateTimeField(_("fim do aviso"))
    effective_at = models.DateTimeField(_("primeira renovação com o novo preço"), null=True, blank=True)
    status = models.CharField(
        _("situação"), max_length=10, choices=PriceNoticeStatus.choices, default=PriceNoticeStatus.SCHEDULED
    )
    applied_at = models.DateTimeField(_("aplicado em"), null=True, blank=True)

    class Meta:
        verbose_name = _("aviso de reajuste")
        verbose_name_plural = _("avisos de reajuste")
        ordering = ["-notified_at", "-pk"]
        indexes = [
            models.Index(fields=["subscription", "status"], name="price_notice_sub_status_idx"),
            models.Index(fields=["new_price", "status"], name="price_notice_version_idx"),
        ]

    def __str__(self):
        return _("Reajuste da assinatura #%(pk)s") % {"pk": self.subscription_id}
