from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("trocar-lojista/", views.SwitchMerchantView.as_view(), name="switch_merchant"),
    path("configuracoes/", views.MerchantSettingsView.as_view(), name="settings"),
    path("configuracoes/logotipo/", views.MerchantLogoView.as_view(), name="logo"),
    path("configuracoes/logotipo/remover/", views.MerchantLogoRemoveView.as_view(), name="logo_remove"),
    path("configuracoes/api/", views.ApiKeyListView.as_view(), name="api_keys"),
    path("configuracoes/api/<int:pk>/revogar/", views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
    path("tabelas/colunas/", views.TableConfigView.as_view(), name="table_config"),
]
