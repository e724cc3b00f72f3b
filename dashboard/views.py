from django.utils.translation import gettext_lazy as _

from core.views import MerchantTemplateView
from dashboard import metrics, panels, selectors
from dashboard.definitions import definitions
from dashboard.forms import PeriodForm
from dashboard.periods import Preset


class DashboardView(MerchantTemplateView):
    """Painel: the first page after login — the subscriptions' numbers for a period, each linked to the
    list that produced it. Any role may see it (Action.VIEW)."""

    template_name = "dashboard/index.html"
    title = _("Painel")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        today = merchant.localdate()
        form = PeriodForm(self.request.GET or None)
        period = form.get_period(today=today)
        dashboard = metrics.build_dashboard(merchant=merchant, period=period, today=today)
        context.update(
            title=self.title,
            form=form,
            presets=Preset.choices,
            period=period,
            dashboard=dashboard,
            has_plans=True if not dashboard.is_empty else selectors.merchant_has_plans(merchant=merchant),
            definitions=definitions(),
        )
        if not dashboard.is_empty:
            context.update(
                cards=panels.cards(dashboard),
                mrr_charts=panels.mrr_charts(dashboard),
                flow=panels.flow_chart(dashboard),
                breakdowns=panels.breakdowns(dashboard),
            )
        return context
