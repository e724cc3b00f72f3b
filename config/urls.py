from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from core.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("conta/", include("django.contrib.auth.urls")),
    path("", include("dashboard.urls")),
    path("", include("accounts.urls")),
    path("planos/", include("plans.urls")),
    path("", include("subscribers.urls")),
    path("cobrancas/", include("billing.urls")),
    path("notificacoes/", include("notifications.urls")),
]
