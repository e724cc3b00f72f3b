"""Included by notifications/urls.py, inside its namespace."""

from django.urls import path

from notifications.webhooks import views

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
    # Notificações > Eventos (the catalog webhook receivers code against)
    path("eventos/", views.EventTypesView.as_view(), name="event_types"),
]
