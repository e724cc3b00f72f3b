from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from localflavor.br.forms import BRCNPJField, BRCPFField

from core.forms import IntegerField, MoneyField, PercentField
from plans.choices import CouponDuration
from plans.models import Coupon, Plan, TaxRate
from plans.tables import coupon_discount_display
from subscribers.choices import (
    BackdateBilling,
    CancelOrigin,
    CancelWhen,
    DiscountType,
    PaymentMethod,
    SubscriptionStatus,
)
from subscribers.models import Customer
from subscribers.validators import (
    CNPJ_LENGTH,
    CPF_LENGTH,
    DIGITS_RE,
    DOCUMENT_MESSAGES,
    normalize_document,
    normalize_email,
    normalize_handle,
    normalize_phone,
    validate_phone,
)


class CustomerForm(forms.ModelForm):
    """Cadastro e edição de cliente. Cleans what a person types; `customer_create` / `customer_update`
    apply the same rules again for every other caller."""

    document = forms.CharField(
        label=_("CPF/CNPJ"),
        required=False,
        max_length=18,  # "11.222.333/0001-81"
        help_text=_("CPF ou CNPJ, com ou sem pontuação."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    class Meta:
        model = Customer
        fields = ["name", "email", "handle", "document", "phone"]
        labels = {
            "name": _("Nome"),
            "email": _("E-mail"),
            "handle": _("@usuário"),
            "phone": _("Telefone"),
        }
        help_texts = {
            "handle": _("Com ou sem o @; letras, números, ponto, hífen e sublinhado."),
            "phone": _("Com DDD, por exemplo (11) 91234-5678; de outro país, com + e o código do país."),
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "handle": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "@"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["document"] = self.instance.document_display
            self.initial["phone"] = self.instance.phone_display

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean_handle(self):
        return normalize_handle(self.cleaned_data["handle"])

    def clean_phone(self):
        """E.164 ("+5511912345678") from the ways people write a Brazilian number, or a foreign one."""
        phone = normalize_phone(self.cleaned_data["phone"])
        validate_phone(phone)
        return phone

    def clean_document(self):
        """Either a CPF (11 digits) or a CNPJ (14), checked by localflavor; returns the digits only."""
        digits = normalize_document(self.cleaned_data["document"])
        if not digits:
            return ""
        if not DIGITS_RE.fullmatch(digits):
            raise ValidationError(DOCUMENT_MESSAGES["characters"], code="invalid_characters")
        if len(digits) == CPF_LENGTH:
            message = DOCUMENT_MESSAGES["cpf"]
            field = BRCPFField(error_messages={"invalid": message, "max_digits": message})
        elif len(digits) == CNPJ_LENGTH:
            message = DOCUMENT_MESSAGES["cnpj"]
            field = BRCNPJField(error_messages={"invalid": message, "max_digits": message})
        else:
            raise ValidationError(DOCUMENT_MESSAGES["length"], code="invalid_length")
        field.clean(digits)
        return digits


# --- subscriptions ---------------------------------------------------------------------------------
class _ServiceErrorsMixin:
    """A service reports errors per field; a field this form does not show (the customer, when it is
    fixed by the page) is reported above the form instead of breaking it."""

    def add_error(self, field, error):
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                super().add_error(name if name in self.fields else None, errors)
            return
        super().add_error(field, error)


class _SalespersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _TaxRateChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        label = str(obj)
        if obj.inclusive:
            label = _("%(tax)s, incluso no preço") % {"tax": label}
        if not obj.is_active:
            label = _("%(tax)s — desativado") % {"tax": label}
        return label


def coupon_label(coupon: Coupon) -> str:
    """ "BEMVINDO — 50% por 6 meses", "DEZ — R$ 10,00 uma vez": the code, the discount and how long."""
    if coupon.duration == CouponDuration.REPEATING and coupon.duration_in_months:
        count = coupon.duration_in_months
        duration = ngettext("por %(count)s mês", "por %(count)s meses", count) % {"count": count}
    elif coupon.duration == CouponDuration.FOREVER:
        duration = _("para sempre")
    else:
        duration = _("uma vez")
    return _("%(code)s — %(discount)s %(duration)s") % {
        "code": coupon.code,
        "discount": coupon_discount_display(coupon),
        "duration": duration,
    }


class _CouponChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return coupon_label(obj)


class CardNumberInput(forms.TextInput):
    """A card number typed in is never written back into the page (not even after an error)."""

    def format_value(self, value):
        return None


CARD_MIN_DIGITS, CARD_MAX_DIGITS = 13, 19


def luhn_valid(digits: str) -> bool:
    """The check digit every card number carries (ISO/IEC 7812): catches most typos."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_digits(raw: str) -> str:
    """The digits of a typed card number (spaces and hyphens allowed); ValidationError if it cannot be
    a card: other characters, not 13–19 digits, or a wrong check digit."""
    digits = raw.replace(" ", "").replace("-", "")
    if not digits.isascii() or not digits.isdigit():
        raise ValidationError(
            _("O número do cartão deve ter apenas dígitos (espaços e hífens são aceitos)."),
            code="card_characters",
        )
    if not CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS:
        raise ValidationError(
            _("O número do cartão deve ter de %(min)d a %(max)d dígitos."),
            code="card_length",
            params={"min": CARD_MIN_DIGITS, "max": CARD_MAX_DIGITS},
        )
    if not luhn_valid(digits):
        raise ValidationError(_("Número de cartão inválido: confira os dígitos."), code="card_checksum")
    return digits


class _SubscriptionTermsForm(_ServiceErrorsMixin, forms.Form):
    """The terms shared by contracting and editing: plan, quantity, payment method, discount, salesperson.

    Choices are scoped to the merchant; the services check the same rules again for every other caller.
    """

    plan = forms.ModelChoiceField(
        label=_("Plano"),
        queryset=Plan.objects.none(),
        error_messages={
            "required": _("Escolha o plano."),
            "invalid_choice": _("Escolha um plano ativo da lista."),
        },
    )
    quantity = IntegerField(
        label=_("Quantidade"),
        min_value=1,
        max_value=100_000,
        initial=1,
        error_messages={
            "required": _("Informe a quantidade."),
            "min_value": _("A quantidade deve ser pelo menos 1."),
            "max_value": _("A quantidade pode ser no máximo 100.000."),
            "invalid": _("Informe um número inteiro."),
        },
    )
    payment_method = forms.ChoiceField(
        label=_("Forma de pagamento"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.CARD,
        error_messages={"required": _("Escolha a forma de pagamento.")},
    )
    discount_type = forms.ChoiceField(
        label=_("Desconto"), choices=DiscountType.choices, required=False, initial=DiscountType.NONE
    )
    discount_percent = PercentField(
        label=_("Desconto (%)"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={
            "min_value": _("O percentual deve estar entre 0,01 e 100."),
            "max_value": _("O percentual deve estar entre 0,01 e 100."),
            "invalid": _("Informe um percentual, por exemplo 10 ou 12,5."),
            "max_decimal_places": _("Use no máximo duas casas decimais."),
            "max_digits": _("O percentual deve estar entre 0,01 e 100."),
        },
    )
    discount_amount = MoneyField(
        label=_("Desconto (valor)"),
        required=False,
        min_value=Decimal("0.01"),
        error_messages={"min_value": _("O desconto deve ser maior que zero.")},
    )
    discount_periods = IntegerField(
        label=_("Por quantos períodos"),
        required=False,
        min_value=1,
        max_value=1200,
        help_text=_("Deixe vazio para aplicar o desconto sempre."),
        error_messages={
            "min_value": _("O desconto deve valer por pelo menos 1 período."),
            "max_value": _("O desconto pode valer por no máximo 1.200 períodos."),
            "invalid": _("Informe um número inteiro de períodos."),
        },
    )
    salesperson = _SalespersonChoiceField(
        label=_("Vendedor responsável"),
        queryset=get_user_model().objects.none(),
        required=False,
        error_messages={"invalid_choice": _("O vendedor responsável precisa fazer parte da equipe.")},
    )
    tax_rates = _TaxRateChoiceField(
        label=_("Impostos"),
        queryset=TaxRate.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Somados a cada fatura (ou já inclusos no preço, conforme o imposto)."),
        error_messages={
            "invalid_choice": _("Escolha impostos ativos da lista."),
            "invalid_pk_value": _("Escolha impostos ativos da lista."),
        },
    )

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = Plan.objects.filter(
            merchant=merchant, is_active=True, archived_at__isnull=True
        ).order_by("name", "pk")
        self.fields["tax_rates"].queryset = TaxRate.objects.filter(
            merchant=merchant, is_active=True
        ).order_by("name", "pk")
        self.fields["salesperson"].queryset = (
            get_user_model()
            .objects.filter(memberships__merchant=merchant, is_active=True)
            .order_by("first_name", "last_name", "username")
        )

    def clean(self):
        cleaned_data = super().clean()
        discount_type = cleaned_data.get("discount_type") or DiscountType.NONE
        cleaned_data["discount_type"] = discount_type
        required = {
            DiscountType.PERCENT: ("discount_percent", _("Informe o percentual de desconto.")),
            DiscountType.FIXED: ("discount_amount", _("Informe o valor do desconto.")),
        }.get(discount_type)
        if required and cleaned_data.get(required[0]) is None and required[0] not in self.errors:
            self.add_error(*required)
        # A value typed for a discount type that was not chosen is not kept.
        if discount_type != DiscountType.PERCENT:
            cleaned_data["discount_percent"] = None
        if discount_type != DiscountType.FIXED:
            cleaned_data["discount_amount"] = None
        if discount_type == DiscountType.NONE:
            cleaned_data["discount_periods"] = None
        return cleaned_data


# "Desconto" on the contract form: a coupon is one more choice, exclusive with a manual discount.
DISCOUNT_COUPON = "coupon"


class SubscriptionForm(_SubscriptionTermsForm):
    """Contratar plano. With `customer` the page fixes the customer (the customer's Recorrências tab) and
    the form does not offer the choice; `actor` is the default salesperson.

    A coupon and a manual discount are exclusive, and a chosen coupon wins: the manual discount fields
    are then ignored and the service receives discount type "none". The card number is only read for
    payment method "card"; blank means the sandbox's default test card.
    """

    discount_type = forms.ChoiceField(
        label=_("Desconto"),
        choices=[
            (DiscountType.NONE, DiscountType.NONE.label),
            (DISCOUNT_COUPON, _("Cupom")),
            (DiscountType.PERCENT, DiscountType.PERCENT.label),
            (DiscountType.FIXED, DiscountType.FIXED.label),
        ],
        required=False,
        initial=DiscountType.NONE,
    )
    coupon = _CouponChoiceField(
        label=_("Cupom"),
        queryset=Coupon.objects.none(),
        required=False,
        empty_label=_("Escolha o cupom"),
        help_text=_("Cupons ativos, dentro da validade e com usos disponíveis."),
        error_messages={"invalid_choice": _("Cupom não encontrado.")},
    )
    card_number = forms.CharField(
        label=_("Cartão"),
        required=False,
        widget=CardNumberInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "cc-number",
                "maxlength": 23,
                "spellcheck": "false",
            }
        ),
        help_text=_(
            "Número do cartão, com ou sem espaços. Cartões de teste do sandbox: "
            "4242 4242 4242 4242 aprovado; 4000 0000 0000 0002 recusado; 4000 0000 0000 9995 saldo "
            "insuficiente; 4000 0000 0000 0341 aprovado na primeira cobrança e recusado depois. "
            "Em branco: 4242 4242 4242 4242."
        ),
    )

    customer = forms.ModelChoiceField(
        label=_("Cliente"),
        queryset=Customer.objects.none(),
        error_messages={
            "required": _("Escolha o cliente."),
            "invalid_choice": _("Escolha um cliente da lista."),
        },
    )
    contract_date = forms.DateField(
        label=_("Data de contratação"),
        widget=_date_input(),
        help_text=_("Hoje ou antes começa agora; uma data futura deixa a assinatura agendada."),
        error_messages={
            "required": _("Informe a data de contratação."),
            "invalid": _("Informe uma data válida."),
        },
    )
    notify_customer = forms.BooleanField(
        label=_("Avisar o cliente por e-mail"), required=False, initial=False
    )
    # Rendered beside its amounts by the contract preview (subscribers/partials/contract_preview.html), only
    # for a contract date in the past.
    backdate_billing = forms.ChoiceField(
        label=_("Cobrança retroativa"),
        choices=BackdateBilling.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Escolha como cobrar o tempo retroativo.")},
    )

    field_order = [
        "customer",
        "contract_date",
        "plan",
        "quantity",
        "payment_method",
        "card_number",
        "notify_customer",
        "backdate_billing",
        "discount_type",
        "coupon",
        "discount_percent",
        "discount_amount",
        "discount_periods",
        "tax_rates",
        "salesperson",
    ]

    def __init__(self, *args, merchant=None, customer=None, actor=None, **kwargs):
        super().__init__(*args, merchant=merchant, **kwargs)
        self.fixed_customer = customer
        if customer is not None:
            del self.fields["customer"]
        else:
            field = self.fields["customer"]
            field.queryset = Customer.objects.filter(merchant=merchant).order_by("name", "pk")
            field.label_from_instance = lambda c: f"{c.name} — {c.email}"
            # Validation accepts any of the merchant's customers; the select only lists the chosen one
            # and the first few, the search box above it (htmx) brings the rest.
            chosen = self.data.get(self.add_prefix("customer")) or self.initial.get("customer")
            shown = list(field.queryset[:CUSTOMER_CHOICES_SHOWN])
            if chosen and str(chosen).isdigit() and all(str(c.pk) != str(chosen) for c in shown):
                shown = [*field.queryset.filter(pk=chosen), *shown]
            field.widget.choices = [
                ("", field.empty_label),
                *((c.pk, field.label_from_instance(c)) for c in shown),
            ]
        self.fields["contract_date"].initial = timezone.localdate
        if actor is not None and self.fields["salesperson"].queryset.filter(pk=actor.pk).exists():
            self.fields["salesperson"].initial = actor.pk
        self._limit_coupon_choices()

    def _limit_coupon_choices(self):
        """Any of the merchant's coupons is accepted, so the service can say why one no longer applies
        (inactive, expired, used up); the select lists only those that can be redeemed now, plus the one
        chosen."""
        field = self.fields["coupon"]
        field.queryset = Coupon.objects.filter(merchant=self.merchant).order_by("code", "pk")
        now = timezone.now()
        usable = list(
            field.queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), is_active=True)
            .annotate(redemptions=Count("subscriptions"))
            .filter(Q(max_redemptions__isnull=True) | Q(max_redemptions__gt=F("redemptions")))
        )
        chosen = self.data.get(self.add_prefix("coupon"))
        if chosen and str(chosen).isdigit() and all(str(c.pk) != str(chosen) for c in usable):
            usable = [*field.queryset.filter(pk=chosen), *usable]
        field.widget.choices = [("", field.empty_label), *((c.pk, coupon_label(c)) for c in usable)]

    def clean(self):
        # A chosen coupon wins over a manual discount: decide before the manual fields are required.
        if self.cleaned_data.get("coupon") is not None:
            self.cleaned_data["discount_type"] = DISCOUNT_COUPON
        cleaned_data = super().clean()
        if cleaned_data.get("discount_type") == DISCOUNT_COUPON:
            if cleaned_data.get("coupon") is None and "coupon" not in self.errors:
                self.add_error("coupon", _("Escolha o cupom."))
            cleaned_data["discount_type"] = DiscountType.NONE
            cleaned_data["discount_periods"] = None
        else:
            cleaned_data["coupon"] = None
        self._clean_backdate_billing(cleaned_data)
        if cleaned_data.get("payment_method") == PaymentMethod.CARD and cleaned_data.get("card_number"):
            try:
                cleaned_data["card_number"] = card_digits(cleaned_data["card_number"])
            except ValidationError as error:
                self.add_error("card_number", error)
        else:
            cleaned_data["card_number"] = ""
        return cleaned_data

    def _clean_backdate_billing(self, cleaned_data):
        """A contract date in the past needs the merchant's choice of what to charge now, made with the
        amounts in sight: a form sent without the choice (the preview never shown, e.g. without
        JavaScript) comes back with the preview and the default selected, to be confirmed."""
        contract_date = cleaned_data.get("contract_date")
        today = self.merchant.localdate() if self.merchant is not None else timezone.localdate()
        if contract_date is None or contract_date >= today:
            cleaned_data["backdate_billing"] = BackdateBilling.PERIODS
        elif not cleaned_data.get("backdate_billing") and "backdate_billing" not in self.errors:
            self.add_error(
                "backdate_billing",
                _("A data de contratação é retroativa: veja quanto cada opção cobra agora e escolha uma."),
            )

    def contract_fields(self) -> dict:
        """The cleaned values as subscription_create takes them."""
        data = dict(self.cleaned_data)
        data["payment_token"] = data.pop("card_number", "")
        return data


CUSTOMER_CHOICES_SHOWN = 30


class SubscriptionUpdateForm(_SubscriptionTermsForm):
    """Editar assinatura: plan, quantity, coupon, discount, tax rates, salesperson and payment method (the
    card on file is kept as it is). A coupon added or removed discounts from the next invoice on; a coupon
    takes precedence over a manual discount while it applies. The current plan stays
    selectable even if it has been archived since, so editing something else does not force a plan change.

    "Quando aplicar" decides when a plan or quantity change takes effect: now, with the rest of the paid
    period prorated, or at the next renewal. A change already waiting for the next cycle is what the form
    starts from, so saving another field keeps it. A subscription that has not started yet has nothing
    to prorate: it changes at once and the question is not asked."""

    APPLY_NOW = "now"
    APPLY_NEXT_CYCLE = "next_cycle"

    apply = forms.ChoiceField(
        label=_("Quando aplicar"),
        choices=[(APPLY_NOW, _("Agora, com rateio")), (APPLY_NEXT_CYCLE, _("No próximo ciclo"))],
        initial=APPLY_NOW,
        required=False,  # empty means the default, prorating now (docs/money.md: prorate by default)
        widget=forms.RadioSelect,
        help_text=_(
            "Vale para mudanças de plano ou quantidade. “Agora” credita o tempo não usado do plano atual e "
            "cobra o novo pelo restante do período; “No próximo ciclo” mantém o plano atual até a renovação."
        ),
    )

    coupon = _CouponChoiceField(
        label=_("Cupom"),
        queryset=Coupon.objects.none(),
        required=False,
        empty_label=_("Sem cupom"),
        help_text=_("Vale a partir da próxima fatura; o período já pago não muda."),
        error_messages={"invalid_choice": _("Cupom não encontrado.")},
    )

    field_order = [
        "plan",
        "quantity",
        "apply",
        "payment_method",
        "coupon",
        "discount_type",
        "discount_percent",
        "discount_amount",
        "discount_periods",
        "tax_rates",
        "salesperson",
    ]

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        self.instance = instance
        current_tax_rates = [rate.pk for rate in instance.tax_rates.all()] if instance is not None else []
        if instance is not None:
            # The view passes its own (empty) `initial`; the subscription's terms fill what it leaves out.
            kwargs["initial"] = {
                "plan": instance.pending_plan_id or instance.plan_id,
                "quantity": instance.pending_quantity or instance.quantity,
                "apply": self.APPLY_NEXT_CYCLE
                if instance.pending_plan_id or instance.pending_quantity
                else self.APPLY_NOW,
                "payment_method": instance.payment_method,
                "discount_type": instance.discount_type,
                "discount_percent": instance.discount_percent,
                "discount_amount": instance.discount_amount,
                "discount_periods": instance.discount_periods,
                "salesperson": instance.salesperson_id,
                "tax_rates": current_tax_rates,
                "coupon": instance.coupon_id,
                **(kwargs.get("initial") or {}),
            }
        super().__init__(*args, merchant=merchant, **kwargs)
        if instance is not None:
            kept = [pk for pk in (instance.plan_id, instance.pending_plan_id) if pk]
            self.fields["plan"].queryset = Plan.objects.filter(
                Q(merchant=merchant, is_active=True, archived_at__isnull=True) | Q(pk__in=kept),
                merchant=merchant,
            ).order_by("name", "pk")
            # A tax deactivated since stays listed (and checked) while the subscription has it.
            self.fields["tax_rates"].queryset = TaxRate.objects.filter(
                Q(is_active=True) | Q(pk__in=current_tax_rates), merchant=merchant
            ).order_by("name", "pk")
            if instance.status == SubscriptionStatus.SCHEDULED:
                del self.fields["apply"]
        # Any of the merchant's coupons is accepted here (the service says why one cannot be added); the
        # select lists the active ones and the subscription's own.
        self.fields["coupon"].queryset = Coupon.objects.filter(merchant=merchant).order_by("code", "pk")
        kept_coupon = instance.coupon_id if instance is not None else None
        self.fields["coupon"].widget.choices = [
            ("", self.fields["coupon"].empty_label),
            *(
                (coupon.pk, coupon_label(coupon))
                for coupon in self.fields["coupon"].queryset.filter(Q(is_active=True) | Q(pk=kept_coupon))
            ),
        ]

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("apply"):
            cleaned_data["apply"] = self.APPLY_NOW
        if self.add_prefix("coupon") not in self.data:
            # Not sent at all (an older client, a script): the coupon is kept, never silently removed.
            cleaned_data.pop("coupon", None)
        return cleaned_data


class CancelForm(_ServiceErrorsMixin, forms.Form):
    """Cancelar assinatura: when, who asked and why. Platform staff are recorded as "admin" by the
    service whatever they pick; support cancelling on a customer's behalf picks "Cliente"."""

    when = forms.ChoiceField(
        label=_("Quando"),
        choices=CancelWhen.choices,
        initial=CancelWhen.PERIOD_END,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha quando cancelar.")},
    )
    at_date = forms.DateField(
        label=_("Data do cancelamento"),
        required=False,
        widget=_date_input(),
        help_text=_("Somente para “Em uma data escolhida”."),
        error_messages={"invalid": _("Informe uma data válida.")},
    )
    credit_unused_time = forms.BooleanField(
        label=_("Creditar o tempo não usado no saldo de crédito"),
        required=False,
        help_text=_(
            "Somente com “Imediatamente”: o acesso termina agora e o valor pago pelo resto do período vai "
            "para o saldo de crédito do cliente (que pode ser reembolsado)."
        ),
    )
    origin = forms.ChoiceField(
        label=_("Quem pediu"),
        choices=[
            (CancelOrigin.CUSTOMER, CancelOrigin.CUSTOMER.label),
            (CancelOrigin.SELLER, CancelOrigin.SELLER.label),
        ],
        widget=forms.RadioSelect,
        help_text=_("Se você está cancelando a pedido do cliente, escolha “Cliente”."),
        error_messages={"required": _("Informe quem pediu o cancelamento.")},
    )
    reason = forms.CharField(
        label=_("Motivo"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres.")},
    )

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        self.merchant = merchant
        self.instance = instance
        super().__init__(*args, **kwargs)


class RemoveForm(forms.Form):
    """Remover: revokes access now; the reason is optional."""

    reason = forms.CharField(
        label=_("Motivo (opcional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres.")},
    )


class BulkCancelForm(forms.Form):
    """Cancelar selecionadas (Assinantes): one cancellation applied to each selected subscription.

    Only "now" or "end of the current period" (a chosen date means little across many subscriptions);
    the reason is required, since it is the only trace of why a batch was ended.
    """

    when = forms.ChoiceField(
        label=_("Quando"),
        choices=[
            (CancelWhen.NOW, CancelWhen.NOW.label),
            (CancelWhen.PERIOD_END, CancelWhen.PERIOD_END.label),
        ],
        initial=CancelWhen.PERIOD_END,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha quando cancelar.")},
    )
    origin = forms.ChoiceField(
        label=_("Quem pediu"),
        choices=[
            (CancelOrigin.CUSTOMER, CancelOrigin.CUSTOMER.label),
            (CancelOrigin.SELLER, CancelOrigin.SELLER.label),
        ],
        initial=CancelOrigin.SELLER,
        widget=forms.RadioSelect,
        help_text=_("Se você está cancelando a pedido dos clientes, escolha “Cliente”."),
        error_messages={"required": _("Informe quem pediu o cancelamento.")},
    )
    reason = forms.CharField(
        label=_("Motivo"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Informe o motivo do cancelamento."),
            "max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres."),
        },
    )


class ChangeCardForm(forms.Form):
    """Alterar cartão: the new card number (in the sandbox, a test card; see billing.gateways.sandbox)."""

    card_number = forms.CharField(
        label=_("Número do novo cartão"),
        max_length=40,
        help_text=_("Teste: 4242 4242 4242 4242 é aprovado; 4000 0000 0000 0002 é recusado."),
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
        error_messages={"required": _("Informe o número do cartão.")},
    )

    def clean_card_number(self):
        return card_digits(self.cleaned_data["card_number"])
