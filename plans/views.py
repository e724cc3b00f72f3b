from django.utils.translation import gettext_lazy as _

from accounts.generic import MerchantActionView, MerchantDetailView, MerchantListView
from plans.models import Plan


class PlanListView(MerchantListView):
    queryset = Plan.objects.all()
    title = _("Planos")


class PlanDetailView(MerchantDetailView):
    model = Plan


PlanCreateView = PlanUpdateView = PlanListView


class PlanArchiveView(MerchantActionView):
    model = Plan


PlanDeleteView = PlanArchiveView
