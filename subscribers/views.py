from accounts.generic import MerchantDetailView, MerchantListView
from subscribers.models import Customer


class CustomerListView(MerchantListView):
    queryset = Customer.objects.all()


class CustomerDetailView(MerchantDetailView):
    model = Customer


CustomerCreateView = CustomerUpdateView = CustomerListView
