"""Notificações: each feature's URLs, inside the one `notifications` namespace."""

from django.urls import include, path

app_name = "notifications"

urlpatterns = [
    # Notificações > Webhooks and Eventos
    path("", include("notifications.webhooks.urls")),
    # Notificações > Automações and Integrações
    path("", include("notifications.automations.urls")),
    # Notificações > E-mails
    path("", include("notifications.emails.urls")),
]
