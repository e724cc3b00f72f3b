"""Planos > plano > Alterar preço: the preview, then the change (billing.services.price_changes)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action
from billing.forms import PlanPriceChangeForm
from billing.services.price_changes import plan_price_change_apply, price_change_preview
from core.money import format_money
from core.views import MerchantUpdateView
from plans.models import Plan


class PlanPriceChangeView(MerchantUpdateView):
    """ "Ver prévia" shows what the change does (subscriptions notified, MRR before and after, the first
    renewal at the new price) without writing; "Confirmar" makes it."""

    model = Plan
    form_class = PlanPriceChangeForm
    template_name = "billing/plan_price_change.html"
    required_action = Action.MANAGE_CATALOG
    title = _("Alterar preço")
    one_time_form = True  # a resent confirmation must not notify every subscription twice

    @staticmethod
    def previewed(form) -> str:
        """What a preview showed; a confirmation of other values gets their preview first."""
        data = form.cleaned_data
        return f"{data['amount']}:{data['existing']}:{data['notice_days']}"

    def form_valid(self, form):
        if self.request.POST.get("confirm") != self.previewed(form):
            try:
                preview = price_change_preview(
                    plan=self.object,
                    amount=form.cleaned_data["amount"],
                    notice_days=form.cleaned_data["notice_days"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
                return self.form_invalid(form)
            return self.render_to_response(
                self.get_context_data(
                    form=self._with_new_token(form),
                    preview=preview,
                    migrate=form.migrate,
                    previewed=self.previewed(form),
                )
            )
        return super().form_valid(form)

    def perform(self, form):
        version, notified = plan_price_change_apply(
            plan=self.object,
            amount=form.cleaned_data["amount"],
            migrate=form.migrate,
            notice_days=form.cleaned_data["notice_days"],
            actor=self.request.user,
        )
        price = format_money(version.amount, version.currency)
        if form.migrate:
            self.success_message = _(
                "Novo preço %(price)s salvo. %(count)s assinaturas foram avisadas do reajuste."
            ) % {"price": price, "count": notified}
        else:
            self.success_message = _(
                "Novo preço %(price)s salvo para novas assinaturas; as atuais mantêm o preço."
            ) % {"price": price}
        return self.object

    def get_success_url(self):
        return self.object.get_absolute_url()
