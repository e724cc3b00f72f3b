from django.urls import path

from billing.checkout import views

app_name = "checkout"

urlpatterns = [
    path("<str:slug>/", views.CheckoutPageView.as_view(), name="page"),
    path("<str:slug>/cupom/", views.CheckoutCouponView.as_view(), name="coupon"),
    path("<str:slug>/tema.css", views.CheckoutThemeView.as_view(), name="theme"),
    path("<str:slug>/pedido/<str:token>/", views.CheckoutStatusView.as_view(), name="status"),
]
