from django.urls import path

from billing import views
from core.ratelimit import rate_limit

app_name = "billing"

# Stripe's webhooks: public, found by the connection's token, authenticated by Stripe-Signature. The web
# process answers them with the bare view (config/urls_webhooks.py, core/lean_wsgi.py); the site's URLconf
# routes the same path to the same answer through the full stack.
webhook_urlpatterns = [
    path("webhooks/stripe/<uuid:token>/", views.StripeWebhookView.as_view(), name="stripe_webhook"),
]
bare_webhook_urlpatterns = [
    path("webhooks/stripe/<uuid:token>/", views.stripe_webhook, name="stripe_webhook"),
]

urlpatterns = [
    # Cobranças > Faturas
    path("faturas/", views.InvoiceListView.as_view(), name="invoice_list"),
    path("faturas/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice_detail"),
    path("faturas/<int:pk>/pdf/", views.InvoicePdfView.as_view(), name="invoice_pdf"),
    path(
        "faturas/<int:pk>/registrar-pagamento/",
        views.InvoiceRecordPaymentView.as_view(),
        name="invoice_record_payment",
    ),
    path("faturas/<int:pk>/cobrar-agora/", views.InvoiceChargeNowView.as_view(), name="invoice_charge_now"),
    path("faturas/<int:pk>/anular/", views.InvoiceVoidView.as_view(), name="invoice_void"),
    path(
        "faturas/<int:pk>/incobravel/",
        views.InvoiceMarkUncollectibleView.as_view(),
        name="invoice_mark_uncollectible",
    ),
    # Cobranças > Pagamentos
    path("pagamentos/", views.PaymentListView.as_view(), name="payment_list"),
    path("pagamentos/<int:pk>/simular/", views.PaymentSettleView.as_view(), name="payment_settle"),
    path("pagamentos/<int:pk>/chargeback/", views.PaymentChargebackView.as_view(), name="payment_chargeback"),
    # Assinatura > Reembolsar (billing/views/refunds.py)
    path(
        "assinaturas/<int:pk>/reembolsar/",
        views.SubscriptionRefundView.as_view(),
        name="subscription_refund",
    ),
    # Assinatura > Próximas faturas, Simular inadimplência (billing/views/upcoming.py)
    path(
        "assinaturas/<int:pk>/proximas-faturas/",
        views.SubscriptionUpcomingInvoicesView.as_view(),
        name="subscription_upcoming_invoices",
    ),
    path(
        "assinaturas/<int:pk>/programacao/previa/",
        views.SubscriptionSchedulePreviewView.as_view(),
        name="subscription_schedule_preview",
    ),
    path(
        "assinaturas/<int:pk>/simular-inadimplencia/",
        views.SubscriptionDunningSimulationView.as_view(),
        name="subscription_dunning_simulation",
    ),
    # Cliente > Saldo de crédito (billing/views/credit.py)
    path("clientes/<int:pk>/credito/", views.CustomerCreditView.as_view(), name="customer_credit"),
    path(
        "clientes/<int:pk>/credito/ajustar/",
        views.CustomerCreditAdjustView.as_view(),
        name="customer_credit_adjust",
    ),
    path(
        "clientes/<int:pk>/credito/reembolsar/",
        views.CustomerCreditRefundView.as_view(),
        name="customer_credit_refund",
    ),
    # Cobranças > Execuções
    path("execucoes/", views.BillingRunListView.as_view(), name="run_list"),
    path("execucoes/executar/", views.BillingRunStartView.as_view(), name="run_now"),
    path("execucoes/<int:pk>/", views.BillingRunDetailView.as_view(), name="run_detail"),
    path("execucoes/<int:pk>/progresso/", views.BillingRunProgressView.as_view(), name="run_progress"),
    # Planos > plano > Alterar preço (its money: subscriptions notified, MRR, first renewal at the price).
    path("planos/<int:pk>/alterar-preco/", views.PlanPriceChangeView.as_view(), name="plan_price_change"),
    # Configurações > Pagamentos (billing/views/providers.py)
    path("configuracoes/pagamentos/", views.PaymentProvidersView.as_view(), name="providers"),
    # Notificações > Eventos recebidos
    path("eventos-recebidos/", views.ProviderEventListView.as_view(), name="provider_event_list"),
    path(
        "eventos-recebidos/<int:pk>/", views.ProviderEventDetailView.as_view(), name="provider_event_detail"
    ),
    path(
        "eventos-recebidos/<int:pk>/reprocessar/",
        views.ProviderEventReprocessView.as_view(),
        name="provider_event_reprocess",
    ),
    path(
        "eventos-recebidos/reprocessar/",
        views.ProviderEventBulkReprocessView.as_view(),
        name="provider_event_bulk_reprocess",
    ),
    path(
        "assinaturas/<int:pk>/ressincronizar/",
        views.SubscriptionResyncView.as_view(),
        name="subscription_resync",
    ),
    # Configurações > Cobrança
    path("configuracoes/", views.BillingSettingsView.as_view(), name="settings"),
    # The sandbox "bank": public, authenticated by its signature.
    path(
        "sandbox/callback/",
        rate_limit("public", key="ip")(views.SandboxCallbackView.as_view()),
        name="sandbox_callback",
    ),
    *webhook_urlpatterns,
]
