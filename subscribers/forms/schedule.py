"""Programação: the phase editor (one form per phase, in a formset that adds, removes and reorders the
phases still ahead) and the cancellation of a schedule with its subscription."""

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.forms import IntegerField, MoneyField, PercentField
from core.money import to_major
from core.percent import DISCOUNT_PERCENT
from plans.choices import IntervalUnit
from plans.models import Coupon, Plan, TaxRate
from subscribers.choices import (
    CancelOrigin,
    PhaseAnchor,
    PhaseKind,
    PhaseProration,
    PhaseState,
    ResumeMode,
    ScheduleEndBehavior,
)
from subscribers.forms.fields import CouponChoiceField, ServiceErrorsMixin, TaxRateChoiceField, date_input
from subscribers.services.schedules import CURRENT_PHASE_EDITABLE, PhaseSpec


class PhaseForm(forms.Form):
    """One phase: a plan or a one-off price, quantity, coupon or discount, taxes, trial, end, and what
    entering it does. `state` (past/current/future) disables what the edit rules freeze."""

    plan = forms.ModelChoiceField(label=_("Plano"), queryset=Plan.objects.none(), required=False)
    price_name = forms.CharField(label=_("Descrição do preço avulso"), max_length=120, required=False)
    price_amount = MoneyField(label=_("Preço avulso"), required=False, min_value=Decimal("0.01"))
    price_interval_unit = forms.ChoiceField(
        label=_("Intervalo"), choices=[("", "—"), *IntervalUnit.choices], required=False
    )
    price_interval_count = IntegerField(label=_("A cada"), min_value=1, max_value=365, required=False)
    quantity = IntegerField(label=_("Quantidade"), min_value=1, max_value=100_000, initial=1)
    coupon = CouponChoiceField(label=_("Cupom"), queryset=Coupon.objects.none(), required=False)
    discount_percent = PercentField(
        label=_("Desconto (%)"),
        required=False,
        percent_range=DISCOUNT_PERCENT,
    )
    tax_rates = TaxRateChoiceField(
        label=_("Impostos"),
        queryset=TaxRate.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    trial_days = IntegerField(label=_("Dias de teste"), min_value=1, max_value=730, required=False)
    end_date = forms.DateField(
        label=_("Termina em"),
        required=False,
        widget=date_input(),
        error_messages={"invalid": _("Informe uma data válida.")},
    )
    iterations = IntegerField(
        label=_("Ou após N períodos"),
        min_value=1,
        max_value=120,
        required=False,
        help_text=_("A última fase pode ficar sem fim: ela dura um período."),
    )
    proration = forms.ChoiceField(
        label=_("Ao entrar no meio de um período"),
        choices=PhaseProration.choices,
        initial=PhaseProration.PRORATE,
    )
    anchor = forms.ChoiceField(
        label=_("Ciclo de cobrança"), choices=PhaseAnchor.choices, initial=PhaseAnchor.AUTOMATIC
    )
    # A pause block ("Adicionar pausa"): only its end date and how it resumes are shown and read.
    kind = forms.ChoiceField(
        choices=PhaseKind.choices, initial=PhaseKind.TERMS, required=False, widget=forms.HiddenInput
    )
    resume_mode = forms.ChoiceField(
        label=_("Ao fim da pausa"),
        choices=ResumeMode.choices,
        initial=ResumeMode.NEW_PERIOD,
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, merchant=None, state=PhaseState.FUTURE, **kwargs):
        super().__init__(*args, **kwargs)
        self.state = state
        posted_kind = self.data.get(self.add_prefix("kind")) if self.is_bound else None
        self.is_pause = (posted_kind or self.initial.get("kind")) == PhaseKind.PAUSE
        if self.is_pause:
            # The terms' fields are not on a pause's card: nothing of them is required.
            for name in ("quantity", "proration", "anchor"):
                self.fields[name].required = False
            self.fields["end_date"].label = _("Pausada até")
            self.fields["end_date"].help_text = _("A assinatura volta a ser cobrada a partir deste dia.")
        if merchant is not None:
            self.fields["plan"].queryset = Plan.objects.filter(merchant=merchant, archived_at__isnull=True)
            self.fields["coupon"].queryset = Coupon.objects.filter(merchant=merchant)
            # The active rates, as on Nova assinatura, and those the phase already has (a rate deactivated
            # since stays on the phases that use it).
            kept = [rate.pk for rate in self.initial.get("tax_rates") or []]
            self.fields["tax_rates"].queryset = TaxRate.objects.filter(merchant=merchant).filter(
                Q(is_active=True) | Q(pk__in=kept)
            )
        if state == PhaseState.PAST:
            for field in self.fields.values():
                field.disabled = True
        elif state == PhaseState.CURRENT:
            for name, field in self.fields.items():
                if name not in CURRENT_PHASE_EDITABLE and name not in ("ORDER", "DELETE"):
                    field.disabled = True

    @property
    def is_blank(self) -> bool:
        """An untouched extra form (no plan and no price): not a phase."""
        data = getattr(self, "cleaned_data", {})
        return not self.is_pause and not data.get("plan") and data.get("price_amount") is None

    def _end(self, merchant):
        """The phase's end as a moment: the start of the day picked, or the saved moment itself when the day
        shown is kept. A schedule attached to a running subscription ends its first phase with the current
        period, at the time of day the subscription started (14:37, say); read back as a date it would
        move to midnight, so saving the editor unchanged would move a running phase's end, or be refused as
        a change of an ended one."""
        end_date = self.cleaned_data.get("end_date")
        if not end_date:
            return None
        saved = self.initial.get("saved_end_date")
        if saved is not None and end_date == self.initial.get("end_date"):
            return saved
        return merchant.start_of_day(end_date)

    def spec(self, merchant) -> PhaseSpec:
        data = self.cleaned_data
        if self.is_pause:
            return PhaseSpec.pause(end_date=self._end(merchant), resume_mode=data.get("resume_mode") or "")
        return PhaseSpec(
            plan=data.get("plan"),
            price_name=data.get("price_name") or "",
            price_amount=None if data.get("plan") else data.get("price_amount"),
            price_interval_unit="" if data.get("plan") else data.get("price_interval_unit") or "",
            price_interval_count=None if data.get("plan") else data.get("price_interval_count"),
            quantity=data.get("quantity") or 1,
            coupon=data.get("coupon"),
            discount_percent=data.get("discount_percent"),
            tax_rates=list(data.get("tax_rates") or []),
            trial_days=data.get("trial_days"),
            end_date=self._end(merchant),
            iterations=data.get("iterations"),
            proration=data.get("proration") or PhaseProration.PRORATE,
            anchor=data.get("anchor") or PhaseAnchor.AUTOMATIC,
        )


def phase_initial(phase, merchant, currency: str) -> dict:
    """A saved phase as the editor's initial values."""
    return {
        "plan": phase.plan,
        "price_name": phase.price_name,
        # In reais: a disabled field (an ended phase) is cleaned from its initial value, which MoneyField
        # reads in major units like anything typed.
        "price_amount": None if phase.price_amount is None else to_major(phase.price_amount, currency),
        "price_interval_unit": phase.price_interval_unit,
        "price_interval_count": phase.price_interval_count,
        "quantity": phase.quantity,
        "coupon": phase.coupon,
        "discount_percent": phase.discount_percent,
        "tax_rates": list(phase.tax_rates.all()),
        "trial_days": phase.trial_days,
        "end_date": phase.end_date.astimezone(merchant.tzinfo).date() if phase.end_date else None,
        "saved_end_date": phase.end_date,  # not a field: the exact moment, kept while its day is (`_end`)
        "iterations": phase.iterations,
        "proration": phase.proration,
        "anchor": phase.anchor,
        "kind": phase.kind,
        "resume_mode": phase.resume_mode,
    }


class BasePhaseFormSet(forms.BaseFormSet):
    """Phases that started (past and current) can be neither removed nor moved."""

    def __init__(self, *args, merchant=None, states=(), **kwargs):
        self.merchant = merchant
        self.states = list(states)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        state = self.states[index] if index is not None and index < len(self.states) else PhaseState.FUTURE
        return {"merchant": self.merchant, "state": state}

    def add_fields(self, form, index):
        super().add_fields(form, index)
        state = self.states[index] if index is not None and index < len(self.states) else PhaseState.FUTURE
        if state != PhaseState.FUTURE:
            form.fields["DELETE"].disabled = True
            form.fields["ORDER"].disabled = True
        form.fields["ORDER"].label = _("Ordem")
        form.fields["DELETE"].label = _("Remover esta pausa") if form.is_pause else _("Remover esta fase")


PhaseFormSet = forms.formset_factory(
    PhaseForm,
    formset=BasePhaseFormSet,
    extra=0,
    can_order=True,
    can_delete=True,
    max_num=10,
    absolute_max=10,
)


class ScheduleForm(ServiceErrorsMixin, forms.Form):
    end_behavior = forms.ChoiceField(
        label=_("Quando a última fase terminar"),
        choices=ScheduleEndBehavior.choices,
        initial=ScheduleEndBehavior.RELEASE,
        widget=forms.RadioSelect,
    )
    # Shown only while a phase runs: what changing its quantity, coupon or taxes from now on bills.
    running_proration = forms.ChoiceField(
        label=_("Mudanças na fase atual (quantidade, cupom, impostos)"),
        choices=[
            (
                PhaseProration.PRORATE,
                _(
                    "Ratear agora: credita o tempo pago não usado e cobra o resto do período nas novas "
                    "condições"
                ),
            ),
            (PhaseProration.NONE, _("Sem rateio: valem a partir da próxima fatura")),
        ],
        initial=PhaseProration.PRORATE,
        widget=forms.RadioSelect,
        required=False,
    )


class ScheduleCancelForm(ServiceErrorsMixin, forms.Form):
    """Cancelar programação e assinatura: now, with who asked and why (the usual cancellation record)."""

    origin = forms.ChoiceField(
        label=_("Quem pediu"),
        choices=[
            (CancelOrigin.CUSTOMER, CancelOrigin.CUSTOMER.label),
            (CancelOrigin.SELLER, CancelOrigin.SELLER.label),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Informe quem pediu o cancelamento.")},
    )
    reason = forms.CharField(
        label=_("Motivo"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
