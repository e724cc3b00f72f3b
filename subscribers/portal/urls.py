"""Minha assinatura, under /portal/<merchant slug>/ (docs/portal.md)."""

from django.urls import path

from subscribers.portal import views

app_name = "portal"

urlpatterns = [
    path("<slug:slug>/", views.PortalLoginView.as_view(), name="login"),
    path("<slug:slug>/entrar/<str:token>/", views.PortalEnterView.as_view(), name="enter"),
    path("<slug:slug>/sair/", views.PortalLogoutView.as_view(), name="logout"),
    path("<slug:slug>/minha-assinatura/", views.PortalHomeView.as_view(), name="home"),
    path("<slug:slug>/meus-dados/", views.PortalDetailsView.as_view(), name="details"),
    path("<slug:slug>/faturas/<int:pk>/pagar/", views.PortalChargeView.as_view(), name="charge"),
    path("<slug:slug>/faturas/<int:pk>/pdf/", views.PortalInvoicePdfView.as_view(), name="invoice_pdf"),
    path("<slug:slug>/assinaturas/<int:pk>/cancelar/", views.PortalCancelView.as_view(), name="cancel"),
    path("<slug:slug>/assinaturas/<int:pk>/ficar/", views.PortalRetentionView.as_view(), name="retention"),
    path(
        "<slug:slug>/assinaturas/<int:pk>/cancelada/",
        views.PortalCancelDoneView.as_view(),
        name="cancel_done",
    ),
    path("<slug:slug>/assinaturas/<int:pk>/plano/", views.PortalChangePlanView.as_view(), name="change_plan"),
    path(
        "<slug:slug>/assinaturas/<int:pk>/plano/previa/",
        views.PortalChangePlanPreviewView.as_view(),
        name="change_plan_preview",
    ),
    path(
        "<slug:slug>/assinaturas/<int:pk>/cartao/", views.PortalChangeCardView.as_view(), name="change_card"
    ),
    path("<slug:slug>/assinaturas/<int:pk>/pausar/", views.PortalPauseView.as_view(), name="pause"),
    path("<slug:slug>/assinaturas/<int:pk>/retomar/", views.PortalResumeView.as_view(), name="resume"),
    path(
        "<slug:slug>/assinaturas/<int:pk>/forma-de-pagamento/",
        views.PortalPaymentMethodView.as_view(),
        name="payment_method",
    ),
]
