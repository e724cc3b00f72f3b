"""Included by notifications/urls.py, inside its namespace."""

from django.urls import path

from notifications.automations import views

urlpatterns = [
    # Notificações > Automações
    path("automacoes/", views.AutomationListView.as_view(), name="automation_list"),
    path("automacoes/nova/", views.AutomationCreateView.as_view(), name="automation_create"),
    path("automacoes/<int:pk>/", views.AutomationDetailView.as_view(), name="automation_detail"),
    path("automacoes/<int:pk>/editar/", views.AutomationUpdateView.as_view(), name="automation_update"),
    path(
        "automacoes/<int:pk>/ativar-desativar/",
        views.AutomationToggleView.as_view(),
        name="automation_toggle",
    ),
    path("automacoes/<int:pk>/testar/", views.AutomationSendTestView.as_view(), name="automation_send_test"),
    path("automacoes/<int:pk>/excluir/", views.AutomationDeleteView.as_view(), name="automation_delete"),
    # Notificações > Integrações
    path("integracoes/", views.ProviderIntegrationListView.as_view(), name="integration_list"),
    path("integracoes/nova/", views.ProviderIntegrationCreateView.as_view(), name="integration_create"),
    path("integracoes/<int:pk>/", views.ProviderIntegrationDetailView.as_view(), name="integration_detail"),
    path(
        "integracoes/<int:pk>/editar/",
        views.ProviderIntegrationUpdateView.as_view(),
        name="integration_update",
    ),
    path(
        "integracoes/<int:pk>/excluir/",
        views.ProviderIntegrationDeleteView.as_view(),
        name="integration_delete",
    ),
]
