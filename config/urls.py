from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.i18n import set_language

from accounts.views import merchant_logo_file
from core.health import healthz
from core.ratelimit import rate_limit

# Sign-in and password reset with rate limits (per IP across usernames, and per e-mail), on top of
# django-axes' lock per username + IP; the rest of django.contrib.auth.urls is included as it is.
login_view = rate_limit("login", key="ip")(auth_views.LoginView.as_view())
password_reset_view = rate_limit("password_reset", key="ip")(
    rate_limit("password_reset", key="post:email")(auth_views.PasswordResetView.as_view())
)


def favicon(request):
    """Browsers and tools still ask for /favicon.ico whatever the page declares: send them to the icon.
    Temporary, since the static file's hashed name changes with its content."""
    return HttpResponseRedirect(static("img/favicon.svg"))


# Also the prefix of the inbound webhooks' lean URLconf (config/urls_webhooks.py).
BILLING_PREFIX = "cobrancas/"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    # Merchant logos from Django's storage, at MEDIA_URL (accounts/logos.py, docs/operations.md).
    path("midia/logos/<str:name>", merchant_logo_file, name="merchant_logo"),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("conta/login/", login_view, name="login"),
    path("conta/password_reset/", password_reset_view, name="password_reset"),
    path("conta/", include("django.contrib.auth.urls")),
    # The merchant REST API (api/, docs/api.md): API-key bearer auth, no session.
    path("api/v1/", include("api.urls")),
    path("", include("dashboard.urls")),
    path("", include("accounts.urls")),
    path("planos/", include("plans.urls")),
    path("", include("subscribers.urls")),
    path(BILLING_PREFIX, include("billing.urls")),
    path("notificacoes/", include("notifications.urls")),
    # Minha assinatura: the customers' own pages, no team sign-in (subscribers/portal/, docs/portal.md).
    path("portal/", include("subscribers.portal.urls")),
    # The public checkout page of a checkout link (no login): billing/checkout/.
    path("c/", include("billing.checkout.urls")),
]

# Error pages in the app's layout and the user's language, with a way back (core/errors.py).
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
