"""Editar assinatura."""

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plans.models import Coupon, Plan, TaxRate
from subscribers.choices import SubscriptionStatus
from subscribers.forms.fields import CouponChoiceField, coupon_label
from subscribers.forms.terms import SubscriptionTermsForm


class SubscriptionUpdateForm(SubscriptionTermsForm):
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

    coupon = CouponChoiceField(
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
        # select lists those that can be redeemed now (Coupon.redemption_refusal) and the subscription's own.
        coupons = Coupon.objects.filter(merchant=merchant).order_by("code", "pk")
        self.fields["coupon"].queryset = coupons
        kept_coupon = instance.coupon_id if instance is not None else None
        redeemable = coupons.redeemable(now=timezone.now()).values("pk")
        listed = coupons.filter(Q(pk__in=redeemable) | Q(pk=kept_coupon))
        self.fields["coupon"].widget.choices = [
            ("", self.fields["coupon"].empty_label),
            *((coupon.pk, coupon_label(coupon)) for coupon in listed),
        ]

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("apply"):
            cleaned_data["apply"] = self.APPLY_NOW
        if self.add_prefix("coupon") not in self.data:
            # Not sent at all (an older client, a script): the coupon is kept, never silently removed.
            cleaned_data.pop("coupon", None)
        return cleaned_data
