from django.urls import path

from subscribers import views

app_name = "subscribers"

urlpatterns = [
    # Assinantes > Clientes
    path("clientes/", views.CustomerListView.as_view(), name="customer_list"),
    path("clientes/novo/", views.CustomerCreateView.as_view(), name="customer_create"),
    path("clientes/buscar/", views.CustomerLookupView.as_view(), name="customer_lookup"),
    path("clientes/<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("clientes/<int:pk>/editar/", views.CustomerUpdateView.as_view(), name="customer_update"),
    # Recorrências tab → Nova > Contratar plano: the same form with the customer fixed.
    path(
        "clientes/<int:pk>/recorrencias/nova/",
        views.CustomerSubscriptionCreateView.as_view(),
        name="customer_subscription_create",
    ),
    # Assinantes
    path("assinantes/", views.SubscriberListView.as_view(), name="subscriber_list"),
    path("assinantes/exportar/", views.SubscriberExportView.as_view(), name="subscriber_export"),
    path(
        "assinantes/cancelar-selecionadas/",
        views.SubscriberBulkCancelView.as_view(),
        name="subscriber_bulk_cancel",
    ),
    path("assinantes/exportacoes/", views.SubscriberExportListView.as_view(), name="subscriber_export_list"),
    # Planos > Assinaturas
    path("planos/assinaturas/", views.SubscriptionListView.as_view(), name="subscription_list"),
    path("planos/assinaturas/nova/", views.SubscriptionCreateView.as_view(), name="subscription_create"),
    path(
        "planos/assinaturas/nova/previa/",
        views.SubscriptionContractPreviewView.as_view(),
        name="subscription_contract_preview",
    ),
    path(
        "planos/assinaturas/excluidas/", views.SubscriptionTombstoneListView.as_view(), name="tombstone_list"
    ),
    path("planos/assinaturas/<int:pk>/", views.SubscriptionDetailView.as_view(), name="subscription_detail"),
    path(
        "planos/assinaturas/<int:pk>/editar/",
        views.SubscriptionUpdateView.as_view(),
        name="subscription_update",
    ),
    path(
        "planos/assinaturas/<int:pk>/editar/previa/",
        views.SubscriptionChangePreviewView.as_view(),
        name="subscription_change_preview",
    ),
    path(
        "planos/assinaturas/<int:pk>/cancelar/",
        views.SubscriptionCancelView.as_view(),
        name="subscription_cancel",
    ),
    path(
        "planos/assinaturas/<int:pk>/cancelar/previa/",
        views.SubscriptionCancelPreviewView.as_view(),
        name="subscription_cancel_preview",
    ),
    # Programação: the phase editor, release, cancel with the subscription.
    path(
        "planos/assinaturas/<int:pk>/programacao/",
        views.SubscriptionScheduleView.as_view(),
        name="subscription_schedule",
    ),
    path(
        "planos/assinaturas/<int:pk>/programacao/liberar/",
        views.SubscriptionScheduleReleaseView.as_view(),
        name="subscription_schedule_release",
    ),
    path(
        "planos/assinaturas/<int:pk>/programacao/cancelar/",
        views.SubscriptionScheduleCancelView.as_view(),
        name="subscription_schedule_cancel",
    ),
    path(
        "planos/assinaturas/<int:pk>/remover/",
        views.SubscriptionRemoveView.as_view(),
        name="subscription_remove",
    ),
    path(
        "planos/assinaturas/<int:pk>/desfazer-cancelamento/",
        views.SubscriptionCancelRevertView.as_view(),
        name="subscription_cancel_revert",
    ),
    path(
        "planos/assinaturas/<int:pk>/pausar/",
        views.SubscriptionPauseView.as_view(),
        name="subscription_pause",
    ),
    path(
        "planos/assinaturas/<int:pk>/pausar/desfazer/",
        views.SubscriptionPauseCancelView.as_view(),
        name="subscription_pause_cancel",
    ),
    path(
        "planos/assinaturas/<int:pk>/retomar/",
        views.SubscriptionResumeView.as_view(),
        name="subscription_resume",
    ),
    path(
        "planos/assinaturas/<int:pk>/retomar/previa/",
        views.SubscriptionResumePreviewView.as_view(),
        name="subscription_resume_preview",
    ),
    path(
        "planos/assinaturas/<int:pk>/readicionar/",
        views.SubscriptionReaddView.as_view(),
        name="subscription_readd",
    ),
    path(
        "planos/assinaturas/<int:pk>/alterar-cartao/",
        views.SubscriptionChangeCardView.as_view(),
        name="subscription_change_card",
    ),
    path(
        "planos/assinaturas/<int:pk>/excluir/",
        views.SubscriptionDeleteView.as_view(),
        name="subscription_delete",
    ),
]
