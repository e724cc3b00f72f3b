from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("conta/entrar/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("conta/", include("django.contrib.auth.urls")),
    path("", include("dashboard.urls")),
    path("", include("accounts.urls")),
    path("planos/", include("plans.urls")),
    path("clientes/", include("subscribers.urls")),
]
