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
    path("links/", views.CheckoutLinkListView.as_view(), name="checkoutlink_list"),
    path("links/novo/", views.CheckoutLinkCreateView.as_view(), name="checkoutlink_create"),
    path("links/<int:pk>/", views.CheckoutLinkDetailView.as_view(), name="checkoutlink_detail"),
    path("links/<int:pk>/editar/", views.CheckoutLinkUpdateView.as_view(), name="checkoutlink_update"),
    path("links/<int:pk>/ativar/", views.CheckoutLinkActivateView.as_view(), name="checkoutlink_activate"),
    path(
        "links/<int:pk>/desativar/",
        views.CheckoutLinkDeactivateView.as_view(),
        name="checkoutlink_deactivate",
    ),
    path("links/<int:pk>/qr.png", views.CheckoutLinkQRPngView.as_view(), name="checkoutlink_qr_png"),
    path("links/<int:pk>/qr.svg", views.CheckoutLinkQRSvgView.as_view(), name="checkoutlink_qr_svg"),
]
