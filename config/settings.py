"""Recorrente settings: one module, driven by environment variables.

DATABASE_URL switches from the embedded SQLite database to PostgreSQL and REDIS_URL switches the
django-q2 broker from the ORM to Redis; nothing else changes between a laptop and a scaled-out install.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RECORRENTE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Debug, secret key, hosts (README "Configuration") -----------------------------------------------
# Production is the default: `make run` and the test settings (tests/settings.py) turn DEBUG on explicitly.
DEBUG = env_bool("DJANGO_DEBUG", default=False)
# Known to everyone who reads this file: with it anyone could sign session cookies, password-reset links
# and sandbox callbacks, so it is only ever used with DEBUG on, and startup refuses it otherwise.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and SECRET_KEY in ("", DEVELOPMENT_SECRET_KEY):
    # Raised at import, so every entry point refuses alike: manage.py (runserver, qcluster, migrate, check),
    # the web server (config.wsgi) and anything else that loads the settings.
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a secret value when DJANGO_DEBUG is off (production). "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'. "
        "For development, set DJANGO_DEBUG=true (make run does)."
    )
# Old keys still accepted for sessions and signed links while a new SECRET_KEY takes over (README).
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "config.apps.RecorrenteStaticFilesConfig",  # django.contrib.staticfiles, fewer files collected
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_q",
    "axes",
    "csp",
    "localflavor",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "plans",
    "subscribers",
    "billing",
    "notifications",
    "dashboard",
    "api",
    "demo",
]

MIDDLEWARE = [
    # First, so its duration covers the whole request and every later log line can carry the request id.
    "core.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Right after SecurityMiddleware (whitenoise's documented place): static files skip the rest.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.CurrentMerchantMiddleware",
    "core.middleware.RejectNulBytesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-axes must be last so it sees the outcome of the login views.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.merchant",
                "notifications.context_processors.webhook_alerts",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# The embedded default is SQLite tuned for a web process and a task worker writing at once:
# WAL lets readers run beside the writer, IMMEDIATE takes the write lock at BEGIN so two writers
# queue on the busy timeout instead of failing half-way with "database is locked".
SQLITE_PATH = VAR_DIR / "recorrente.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; "
                    "PRAGMA foreign_keys=ON;"
                ),
            },
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_NAME", None)},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Task queue (django-q2) ------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Task clusters (core/queues.py). Two clusters on two broker lists: "notifications" (the default: webhooks,
# e-mails, automations, dashboard refreshes) and "billing" (billing runs, first charges, subscription
# starts and ends). A `qcluster` process serves the one named by Q_CLUSTER_NAME (default: notifications).
# A dead cluster must not keep billing waiting: workers prefetch one task at a time (bulk 1, a queue of
# one per worker), the billing run's own claims and reaper take a killed worker's chunk back within
# WORKER_HEARTBEAT_STALE_SECONDS (the broker's `retry` only redelivers a lost wake-up task, which is then
# a no-op), and a task that raised is acknowledged rather than redelivered for ever.
Q_WORKERS = int(os.environ.get("Q_WORKERS", "2"))
Q_CLUSTER = {
    "name": "notifications",
    "workers": Q_WORKERS,
    "timeout": 300,
    "retry": 330,
    "max_attempts": 3,
    "queue_limit": Q_WORKERS,
    "bulk": 1,
    "ack_failures": True,
    "catch_up": False,
    "label": _("Tarefas"),
    "ALT_CLUSTERS": {
        "billing": {
            "workers": int(os.environ.get("Q_BILLING_WORKERS", Q_WORKERS)),
            "queue_limit": int(os.environ.get("Q_BILLING_WORKERS", Q_WORKERS)),
        },
    },
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if env_bool("Q_SYNC"):
    Q_CLUSTER["sync"] = True
# Every worker process writes a heartbeat this often (core.heartbeat); one silent for the stale limit is
# dead: /healthz reports its cluster down and the billing run's reaper takes its chunk back.
WORKER_HEARTBEAT_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_SECONDS", "5"))
WORKER_HEARTBEAT_STALE_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_STALE_SECONDS", "20"))
# What the worker heartbeats run and what subscribers asks of billing are extension points filled in by
# the apps' AppConfig.ready() (core/registry.py; docs/architecture.md lists them), not settings.

# --- Webhooks (notifications/webhooks/services/dispatch.py) ---------------------------------------
# Private, loopback, link-local and other non-public addresses are refused (SSRF), and endpoints must use
# https; this one switch allows both for http://localhost receivers. It follows DEBUG unless set.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
WEBHOOKS_CONNECT_TIMEOUT = float(os.environ.get("WEBHOOKS_CONNECT_TIMEOUT", "5"))
WEBHOOKS_TIMEOUT = float(os.environ.get("WEBHOOKS_TIMEOUT", "10"))  # the whole request, seconds
# An endpoint is disabled after this many deliveries in a row ended failed, or after failing for this
# many days without a single success.
WEBHOOKS_DISABLE_AFTER_FAILED_DELIVERIES = int(
    os.environ.get("WEBHOOKS_DISABLE_AFTER_FAILED_DELIVERIES", "20")
)
WEBHOOKS_DISABLE_AFTER_DAYS = int(os.environ.get("WEBHOOKS_DISABLE_AFTER_DAYS", "5"))
WEBHOOKS_SECRET_GRACE_HOURS = int(os.environ.get("WEBHOOKS_SECRET_GRACE_HOURS", "24"))
# Automation provider tokens are stored encrypted with these Fernet keys (comma-separated; the first
# encrypts, all decrypt; README "Rotating keys"). Empty is only allowed with DEBUG on: development then
# uses a key derived from SECRET_KEY (core/crypto.py). In production a SECRET_KEY
# rotation must not make stored credentials unreadable, so the keys are their own setting.
CREDENTIALS_ENCRYPTION_KEYS = os.environ.get("CREDENTIALS_ENCRYPTION_KEYS", "")
if not DEBUG and not CREDENTIALS_ENCRYPTION_KEYS.strip():
    raise ImproperlyConfigured(
        "CREDENTIALS_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is off (production). Generate a key with: "
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    )

# Stripe (billing/gateways/stripe.py). STRIPE_API_BASE replaces https://api.stripe.com — only for tests and
# local stubs; empty in production. Timeout per request and the library's own retries (with its
# idempotency keys, so a retried POST is not applied twice).
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "20"))
STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "2"))

# --- Auth ------------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:index"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)

# --- Cache and rate limits -----------------------------------------------------------------------------
# The cache holds the list counts and the rate-limit counters. Several web processes must share it
# (Redis, REDIS_URL), else each counts on its own; one process (make run) is fine with local memory.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# django-ratelimit rates per group, "N/period" (s, m, h, d; "20/10m" = 20 per 10 minutes); empty = no limit.
# See core/ratelimit.py and README "Rate limits".
RATE_LIMITS = {
    "login": os.environ.get("RATE_LIMIT_LOGIN", "20/10m"),  # sign-in attempts per IP, all usernames
    "password_reset": os.environ.get("RATE_LIMIT_PASSWORD_RESET", "5/h"),  # per IP and per e-mail
    "export": os.environ.get("RATE_LIMIT_EXPORT", "10/10m"),  # CSV exports per user
    "email_preview": os.environ.get("RATE_LIMIT_EMAIL_PREVIEW", "120/m"),  # live previews per user
    "public": os.environ.get("RATE_LIMIT_PUBLIC", "60/m"),  # public endpoints (callbacks, checkout) per IP
    # Minha assinatura's "send me a link": per IP and, separately, per e-mail typed.
    "portal_link": os.environ.get("RATE_LIMIT_PORTAL_LINK", "5/10m"),
    "checkout": os.environ.get("RATE_LIMIT_CHECKOUT", "20/10m"),  # checkout submissions per IP
    "checkout_link": os.environ.get("RATE_LIMIT_CHECKOUT_LINK", "300/10m"),  # submissions per checkout link
    "checkout_coupon": os.environ.get("RATE_LIMIT_CHECKOUT_COUPON", "30/10m"),  # live coupon checks per IP
    # Stripe webhooks: per sending IP (Stripe posts every account's events from a dozen addresses) and per
    # merchant connection (verified deliveries only), both at what one web process accepts (~1,000/s,
    # bench/README.md), so a burst of one merchant's events is not turned away below the platform's
    # capacity. Over it Stripe gets a 429 and delivers the event again later.
    "stripe_webhook_ip": os.environ.get("RATE_LIMIT_STRIPE_WEBHOOK_IP", "60000/m"),
    "stripe_webhook": os.environ.get("RATE_LIMIT_STRIPE_WEBHOOK", "60000/m"),
}
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", default=True)
# Behind a reverse proxy every request comes from the proxy's address: name the header holding the
# client's address as the proxy sets it (e.g. HTTP_X_REAL_IP), or all clients share one counter.
RATELIMIT_IP_META_KEY = os.environ.get("RATELIMIT_IP_META_KEY") or None

# --- I18N / formats --------------------------------------------------------------------------------
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static files: Bootstrap, Bootstrap Icons, htmx and tom-select come from npm at install time, no CDN
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/tom-select", NODE_MODULES / "tom-select" / "dist"),
]

# --- E-mail ----------------------------------------------------------------------------------------
# Development prints e-mails in the terminal; production sends them over SMTP (EMAIL_HOST and friends).
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")  # implicit TLS, usually port 465
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
# Where the site is reached from outside (scheme + host), for links in e-mails that have no request to
# build them from: "Gerenciar assinatura" (the customer portal). Empty: e-mails carry no such link.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://localhost:8000" if DEBUG else "")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Recorrente <nao-responda@recorrente.local>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)  # the sender of error e-mails to ADMINS
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: pick one.")

# --- UI libraries ----------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "core/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-hover align-middle mb-0"}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"


# ==================================================================================================
# Production: HTTPS, cookies, static files, CSP, logs and error reporting (README "Deploying").
# Every value comes from the environment; the defaults are safe for production and relaxed by DEBUG.
# ==================================================================================================

# --- The sandbox gateway's back doors ----------------------------------------------------------------
# "Simular pagamento" and the signed callback /cobrancas/sandbox/callback/ pay a pending boleto or pix
# without any money moving: demo and test tools, off in production unless explicitly enabled.
SANDBOX_GATEWAY_ENABLED = env_bool("SANDBOX_GATEWAY_ENABLED", default=DEBUG)

# The demo merchants and their well-known logins (admin / recorrente-demo) come from `manage.py load_demo`,
# which `make run` calls; it refuses to run on a production configuration.
DEMO_DATA_ALLOWED = DEBUG

# --- HTTPS ------------------------------------------------------------------------------------------
# Behind a proxy that terminates TLS (nginx, a platform's router), Django only knows the request was https
# from a header the proxy sets. Opt-in, because trusting it without such a proxy lets clients lie.
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env_bool("DJANGO_USE_X_FORWARDED_HOST")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# The health checks of load balancers usually come over plain http from inside the network.
SECURE_REDIRECT_EXEMPT = env_list("DJANGO_SECURE_REDIRECT_EXEMPT", r"^healthz/?$")
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = os.environ.get("DJANGO_SECURE_REFERRER_POLICY", "same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Cookies ----------------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# No page reads the CSRF cookie from JavaScript: forms carry the token, htmx sends it from the page.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = os.environ.get("DJANGO_SESSION_COOKIE_SAMESITE", "Lax")
CSRF_COOKIE_SAMESITE = os.environ.get("DJANGO_CSRF_COOKIE_SAMESITE", "Lax")
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files in production: whitenoise ------------------------------------------------------
# `manage.py collectstatic` copies every file into STATIC_ROOT with a content hash in its name
# (bootstrap.min.<hash>.css) and a compressed copy; whitenoise serves them with a one-year cache.
# Development and the tests (DEBUG on) serve the files from their sources, with no collectstatic step.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_MAX_AGE = 60 if DEBUG else 31536000  # hashed names never change content, see above
# Development serves straight from the sources (no STATIC_ROOT), as runserver does.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Source maps named in the vendored files that their npm packages do not ship are left unrewritten.
WHITENOISE_MANIFEST_STRICT = False
# Source maps (20 MB of the vendored bundles', each stored twice: plain and hashed) are fetched only by a
# browser's developer tools; compressing them took most of collectstatic's minute of CPU.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (
    *("jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br", "swf", "flv"),
    *("woff", "woff2", "3gp", "3gpp", "asf", "avi", "m4v", "mov", "mp4", "mpeg", "mpg", "webm", "wmv"),
    "map",
)

# --- Uploaded files (merchant logos): Django's default storage --------------------------------------
# FileSystemStorage under MEDIA_ROOT unless STORAGES["default"] is changed. MEDIA_ROOT must be a
# persistent directory shared by every web process (a volume, not the container's layer); the files are
# served by the app itself at MEDIA_URL (accounts.views.merchant_logo_file: only current logos, cached for a
# year), or by the web server in front of it. docs/operations.md, "Uploaded files".
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/midia/"

# A refused CSRF check gets the app's own page (translated, with a way back) instead of Django's.
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"

# --- The merchant REST API (api/, docs/api.md) ------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ApiKeyRole"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ApiCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyReadThrottle", "api.throttling.ApiKeyWriteThrottle"],
    "UNAUTHENTICATED_USER": None,
}
# Requests per API key ("N/s|m|h|d"; empty = no limit), reads and writes counted apart (api/throttling.py,
# docs/api.md "Rate limits"). Shared across processes only with a shared cache (REDIS_URL).
API_RATE_LIMITS = {
    "read": os.environ.get("API_RATE_LIMIT_READ", "600/m"),
    "write": os.environ.get("API_RATE_LIMIT_WRITE", "120/m"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Recorrente API",
    "DESCRIPTION": (
        "API REST do lojista: clientes, planos, assinaturas, faturas, pagamentos, eventos, webhooks e "
        "verificação de acesso."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs pages are public (no tenant data); the endpoints they describe are not.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several resources have a `status` (and two name the payment method differently): one named enum each.
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionStatusEnum": "subscribers.choices.SubscriptionStatus",
        "InvoiceStatusEnum": "billing.choices.InvoiceStatus",
        "PaymentStatusEnum": "subscribers.choices.PaymentStatus",
        "RefundStatusEnum": "billing.choices.RefundStatus",
        "PaymentMethodEnum": "subscribers.choices.PaymentMethod",
        "SubscriptionOriginEnum": "subscribers.choices.SubscriptionOrigin",
        "CancelOriginEnum": "api.serializers.CANCEL_ORIGINS",
        "IntervalUnitEnum": "plans.choices.IntervalUnit",
        "PhaseKindEnum": "subscribers.choices.PhaseKind",
        "PhaseProrationEnum": "subscribers.choices.PhaseProration",
    },
}

# --- Content Security Policy (django-csp 4) ------------------------------------------------------
# Everything the pages load comes from this origin: scripts and styles are static files (no inline
# <script>, no style= attributes, no on…= handlers; see static/js/recorrente.js). The e-mail previews are
# sandboxed srcdoc iframes, which inherit this policy: the views that show them relax style-src for
# their own page only (notifications/views), since an e-mail's styles must be inline.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# --- Logs -----------------------------------------------------------------------------------------
# One JSON object per line in production (LOG_FORMAT=json), readable lines in development (text). Every
# request (core.request_log) and every task (core.task_log) logs one line with its duration and ids.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_log.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The request line of core.request_log replaces runserver's and Django's own per-request lines.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# --- Error reporting: Sentry, only when SENTRY_DSN is set -------------------------------------------
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration()],
        environment=os.environ.get("SENTRY_ENVIRONMENT", "development" if DEBUG else "production"),
        release=os.environ.get("SENTRY_RELEASE") or None,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
        send_default_pii=False,
    )
