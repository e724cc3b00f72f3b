from django.urls import include, path

from notifications import customer_email_views as email_views
from notifications import views

app_name = "notifications"

urlpatterns = [
    # Notificações > Webhooks
    path("webhooks/", views.WebhookEndpointListView.as_view(), name="endpoint_list"),
    path("webhooks/novo/", views.WebhookEndpointCreateView.as_view(), name="endpoint_create"),
    path("webhooks/<int:pk>/", views.WebhookEndpointDetailView.as_view(), name="endpoint_detail"),
    path("webhooks/<int:pk>/editar/", views.WebhookEndpointUpdateView.as_view(), name="endpoint_update"),
    path(
        "webhooks/<int:pk>/trocar-segredo/",
        views.WebhookEndpointRotateSecretView.as_view(),
        name="endpoint_rotate_secret",
    ),
    path("webhooks/<int:pk>/testar/", views.WebhookEndpointSendTestView.as_view(), name="endpoint_send_test"),
    path("webhooks/<int:pk>/reenviar/", views.WebhookEndpointResendView.as_view(), name="endpoint_resend"),
    path("webhooks/<int:pk>/excluir/", views.WebhookEndpointDeleteView.as_view(), name="endpoint_delete"),
    path("entregas/<int:pk>/", views.WebhookDeliveryDetailView.as_view(), name="delivery_detail"),
    path("entregas/<int:pk>/reenviar/", views.WebhookDeliveryResendView.as_view(), name="delivery_resend"),
    # Notificações > Automações and Integrações (notifications/automations/urls.py)
    path("", include("notifications.automations.urls")),
    # Notificações > E-mails (fixed paths before "<kind>")
    path("emails/", email_views.CustomerEmailListView.as_view(), name="customer_email_list"),
    path(
        "emails/configuracoes/",
        email_views.CustomerEmailSettingsView.as_view(),
        name="customer_email_settings",
    ),
    path("emails/enviados/", email_views.EmailSendingListView.as_view(), name="email_sending_list"),
    path(
        "emails/enviados/<int:pk>/", email_views.EmailSendingDetailView.as_view(), name="email_sending_detail"
    ),
    path("emails/<str:kind>/", email_views.CustomerEmailEditView.as_view(), name="customer_email_edit"),
    path(
        "emails/<str:kind>/previa/",
        email_views.CustomerEmailPreviewView.as_view(),
        name="customer_email_preview",
    ),
    path(
        "emails/<str:kind>/restaurar/",
        email_views.CustomerEmailRestoreView.as_view(),
        name="customer_email_restore",
    ),
    path(
        "emails/<str:kind>/testar/",
        email_views.CustomerEmailSendTestView.as_view(),
        name="customer_email_send_test",
    ),
    # Notificações > Eventos
    path("eventos/", views.EventTypesView.as_view(), name="event_types"),
]
