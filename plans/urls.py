from django.urls import path

from plans import views

app_name = "plans"

urlpatterns = [
    path("", views.PlanListView.as_view(), name="plan_list"),
    path("novo/", views.PlanCreateView.as_view(), name="plan_create"),
    path("<int:pk>/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("<int:pk>/editar/", views.PlanUpdateView.as_view(), name="plan_update"),
    path("<int:pk>/arquivar/", views.PlanArchiveView.as_view(), name="plan_archive"),
    path("<int:pk>/desarquivar/", views.PlanUnarchiveView.as_view(), name="plan_unarchive"),
    path("<int:pk>/excluir/", views.PlanDeleteView.as_view(), name="plan_delete"),
    path("cupons/", views.CouponListView.as_view(), name="coupon_list"),
    path("cupons/novo/", views.CouponCreateView.as_view(), name="coupon_create"),
    path("cupons/<int:pk>/", views.CouponDetailView.as_view(), name="coupon_detail"),
    path("cupons/<int:pk>/editar/", views.CouponUpdateView.as_view(), name="coupon_update"),
    path("cupons/<int:pk>/desativar/", views.CouponDeactivateView.as_view(), name="coupon_deactivate"),
    path("impostos/", views.TaxRateListView.as_view(), name="taxrate_list"),
    path("impostos/novo/", views.TaxRateCreateView.as_view(), name="taxrate_create"),
    path("impostos/<int:pk>/", views.TaxRateDetailView.as_view(), name="taxrate_detail"),
    path("impostos/<int:pk>/editar/", views.TaxRateUpdateView.as_view(), name="taxrate_update"),
]
