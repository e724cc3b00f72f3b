from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("trocar-lojista/", views.SwitchMerchantView.as_view(), name="switch_merchant"),
    path("configuracoes/", views.MerchantSettingsView.as_view(), name="settings"),
    path("tabelas/colunas/", views.TableConfigView.as_view(), name="table_config"),
]
