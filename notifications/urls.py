from django.urls import include, path

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
    # Notificações > Eventos
    path("eventos/", views.EventTypesView.as_view(), name="event_types"),
]
