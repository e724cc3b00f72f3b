from django.urls import path

from subscribers import views

app_name = "subscribers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("novo/", views.CustomerCreateView.as_view(), name="customer_create"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("<int:pk>/editar/", views.CustomerUpdateView.as_view(), name="customer_update"),
]
