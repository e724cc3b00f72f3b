"""Recorrente settings: one module, driven by environment variables.

DATABASE_URL switches from the embedded SQLite database to PostgreSQL and REDIS_URL switches the
django-q2 broker from the ORM to Redis; nothing else changes between a laptop and a scaled-out install.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RECORRENTE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", default=True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_q",
    "axes",
    "localflavor",
    "core",
    "accounts",
    "plans",
    "subscribers",
    "billing",
    "notifications",
    "dashboard",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.CurrentMerchantMiddleware",
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
# Called by the heartbeat of each worker of the named cluster, after each beat (dotted paths).
WORKER_HEARTBEAT_HOOKS = {"billing": ["billing.services.billing_run.billing_run_reap"]}
# Called by `manage.py worker` with the heartbeat keys of workers it had to kill on stop: their work goes
# back to the queue at once.
WORKER_RELEASE_HOOKS = ["billing.services.billing_run.billing_run_release"]

# Billing a plan change applied now (subscribers may not import billing, so it names the function).
SUBSCRIPTION_PLAN_CHANGE_HOOK = "billing.services.proration.prorate_plan_change"
# What a subscription's billing history is, and whether a delete may take it along (money never).
SUBSCRIPTION_BILLING_HISTORY_HOOK = "billing.services.invoicing.subscription_billing_history"
# Why a list row may not be refunded (the refund service's own message), or None.
SUBSCRIPTION_REFUND_REFUSAL_HOOK = "billing.services.refunds.refund_row_refusal"

# --- Webhooks (notifications/services/dispatch.py) ----------------------------------------------------
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
# encrypts, all decrypt). Empty: a key derived from SECRET_KEY (notifications/automations/crypto.py).
CREDENTIALS_ENCRYPTION_KEYS = os.environ.get("CREDENTIALS_ENCRYPTION_KEYS", "")

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

# --- I18N / formats --------------------------------------------------------------------------------
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static files: Bootstrap, Bootstrap Icons and htmx come from npm at install time, no CDN ----
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
]

# --- E-mail ----------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Recorrente <nao-responda@recorrente.local>")

# --- UI libraries ----------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "core/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-hover align-middle mb-0"}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
