from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from core.health import healthz
from core.ratelimit import rate_limit

# Sign-in and password reset with rate limits (per IP across usernames, and per e-mail), on top of
# django-axes' lock per username + IP; the rest of django.contrib.auth.urls is included as it is.
login_view = rate_limit("login", key="ip")(auth_views.LoginView.as_view())
password_reset_view = rate_limit("password_reset", key="ip")(
    rate_limit("password_reset", key="post:email")(auth_views.PasswordResetView.as_view())
)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("conta/login/", login_view, name="login"),
    path("conta/password_reset/", password_reset_view, name="password_reset"),
    path("conta/", include("django.contrib.auth.urls")),
    path("", include("dashboard.urls")),
    path("", include("accounts.urls")),
    path("planos/", include("plans.urls")),
    path("", include("subscribers.urls")),
    path("cobrancas/", include("billing.urls")),
    path("notificacoes/", include("notifications.urls")),
]
