"""Included by notifications/urls.py, inside its namespace."""

from django.urls import path

from notifications.emails import views

urlpatterns = [
    # Notificações > E-mails (fixed paths before "<kind>")
    path("emails/", views.CustomerEmailListView.as_view(), name="customer_email_list"),
    path("emails/configuracoes/", views.CustomerEmailSettingsView.as_view(), name="customer_email_settings"),
    path("emails/enviados/", views.EmailSendingListView.as_view(), name="email_sending_list"),
    path("emails/enviados/<int:pk>/", views.EmailSendingDetailView.as_view(), name="email_sending_detail"),
    path("emails/<str:kind>/", views.CustomerEmailEditView.as_view(), name="customer_email_edit"),
    path(
        "emails/<str:kind>/previa/", views.CustomerEmailPreviewView.as_view(), name="customer_email_preview"
    ),
    path(
        "emails/<str:kind>/restaurar/",
        views.CustomerEmailRestoreView.as_view(),
        name="customer_email_restore",
    ),
    path(
        "emails/<str:kind>/testar/",
        views.CustomerEmailSendTestView.as_view(),
        name="customer_email_send_test",
    ),
]
