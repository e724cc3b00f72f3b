from django.utils.translation import gettext_lazy as _

from accounts.generic import MerchantTemplateView
from dashboard import selectors


class DashboardView(MerchantTemplateView):
    """Painel: the first page after login. The metrics issue grows it into the full dashboard."""

    template_name = "dashboard/index.html"
    title = _("Painel")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        context["summary"] = selectors.merchant_summary(merchant=self.request.merchant)
        return context
