"""One settings module, read from the environment (see .env.example)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent.parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


def _load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines from .env; real environment variables win."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


_load_dotenv(Path(_env("MARKETDESK_ENV_FILE", str(REPO_DIR / ".env"))))

TESTING = _env_bool("TESTING") or "pytest" in sys.modules
DATA_DIR = Path(_env("MARKETDESK_DATA_DIR", str(REPO_DIR / "data")))
DEBUG = _env_bool("DEBUG", False)
SECRET_KEY = _env("SECRET_KEY") or ("insecure-dev-key-" + "x" * 40 if DEBUG or TESTING else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "template_partials",
    "marketdesk.core",
    "marketdesk.org",
    "marketdesk.approvals",
    "marketdesk.crm",
    "marketdesk.finance",
    "marketdesk.sales",
]
INSTALLED_APPS += _env_list("MARKETDESK_EXTRA_APPS")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "marketdesk.core.i18n.UserLanguageMiddleware",
    "marketdesk.core.middleware.SessionTimeoutMiddleware",
    "marketdesk.core.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "marketdesk.urls"
WSGI_APPLICATION = "marketdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketdesk.core.context_processors.shell",
            ],
        },
    },
]

# Database: SQLite (WAL, IMMEDIATE transactions) by default, PostgreSQL via DATABASE_URL.
DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = _env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'marketdesk.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=30000; PRAGMA cache_size=-64000;"
        ),
    }
    # A file (not :memory:) so threads in the concurrency tests share it; one per process so
    # two test runs on one machine never share a database.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"marketdesk-test-{os.getpid()}.sqlite3")
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "marketdesk.core.auth.UsernameOrMobileBackend",
    "marketdesk.org.auth.RolePermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:workbench"
LOGOUT_REDIRECT_URL = "core:login"

# Sign-in policy (R5.1.3 asks that customer data does not leak through weak accounts).
LOGIN_FAILURE_LIMIT = int(_env("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_MINUTES = int(_env("LOGIN_LOCKOUT_MINUTES", "15"))
SESSION_IDLE_TIMEOUT_MINUTES = int(_env("SESSION_IDLE_TIMEOUT_MINUTES", "30"))
SESSION_ABSOLUTE_TIMEOUT_HOURS = int(_env("SESSION_ABSOLUTE_TIMEOUT_HOURS", "12"))
REQUIRE_ADMIN_2FA = _env_bool("REQUIRE_ADMIN_2FA", False)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# HTTPS hardening: on for production (SECURE_HTTPS=true); `check --deploy` is then clean.
SECURE_HTTPS = _env_bool("SECURE_HTTPS", False)
SECURE_SSL_REDIRECT = SECURE_HTTPS
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_HSTS_SECONDS = int(_env("SECURE_HSTS_SECONDS", "31536000" if SECURE_HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _env_bool("BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Languages: zh-Hans first, English second.
LANGUAGE_CODE = _env("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = _env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# Static files: npm packages served from node_modules by staticfiles + WhiteNoise, no CDN.
NODE_MODULES = Path(_env("MARKETDESK_NODE_MODULES", str(REPO_DIR / "node_modules")))
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/alpinejs", NODE_MODULES / "alpinejs" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STATICFILES_DIRS = [PACKAGE_DIR / "static"] + [
    (prefix, path) for prefix, path in STATICFILES_DIRS if path.is_dir()
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Uploaded files are private: never served by URL, only through permission-checked views.
MEDIA_ROOT = DATA_DIR / "files"
MEDIA_URL = "/files/"
ATTACHMENT_MAX_BYTES = int(_env("ATTACHMENT_MAX_MB", "20")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Background work: Celery on Redis when REDIS_URL is set, otherwise in-process.
REDIS_URL = _env("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "run-due-jobs": {"task": "marketdesk.core.tasks.run_due_jobs", "schedule": 60.0},
}
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Email (notifications). Console in development, SMTP from the environment in production.
EMAIL_BACKEND = _env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = _env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(_env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = _env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = _env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = _env("DEFAULT_FROM_EMAIL", "MarketDesk <noreply@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "marketdesk.core.api_auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "marketdesk.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marketdesk.core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MarketDesk API",
    "DESCRIPTION": "REST API of MarketDesk. Every call is limited to the caller's data scope.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status`; name each enum so the schema (and check --deploy) is clean.
    "ENUM_NAME_OVERRIDES": {
        "EmployeeStatusEnum": "marketdesk.org.models.EmployeeStatus",
        "ImportStatusEnum": "marketdesk.core.models.ImportStatus",
        "ApprovalRequestStatusEnum": "marketdesk.approvals.models.RequestStatus",
        "ApprovalTaskStatusEnum": "marketdesk.approvals.models.TaskStatus",
        "DepartmentKindEnum": "marketdesk.org.models.DepartmentKind",
        "GeneralRequestKindEnum": "marketdesk.approvals.models.RequestKind",
        "FinanceClaimStatusEnum": "marketdesk.finance.models.ClaimStatus",
        "FinanceDocStatusEnum": "marketdesk.finance.models.DocStatus",
        "FinanceFamilyEnum": "marketdesk.finance.models.Family",
        "BudgetControlModeEnum": "marketdesk.finance.models.ControlMode",
        "BudgetPeriodKindEnum": "marketdesk.finance.models.PeriodKind",
        "BudgetAdjustmentKindEnum": "marketdesk.finance.models.AdjustmentKind",
        "BudgetEntryKindEnum": "marketdesk.finance.models.EntryKind",
        "ExpensePayMethodEnum": "marketdesk.finance.models.PayMethod",
        "ExpenseVoucherKindEnum": "marketdesk.finance.models.VoucherKind",
        "CustomerKindEnum": "marketdesk.crm.models.CustomerKind",
        "FollowUpKindEnum": "marketdesk.crm.models.FollowUpKind",
        "RevisitStatusEnum": "marketdesk.crm.models.RevisitStatus",
        "SalesOrderStatusEnum": "marketdesk.sales.models.OrderStatus",
        "SalesReceiptStatusEnum": "marketdesk.sales.models.ReceiptStatus",
        "SalesTaskStatusEnum": "marketdesk.sales.models.TaskStatus",
        "SalesTaskKindEnum": "marketdesk.sales.models.TaskKind",
        "SalesDeliveryStatusEnum": "marketdesk.sales.models.DeliveryStatus",
        "OpportunityStatusEnum": "marketdesk.sales.models.OpportunityStatus",
        "ProductStatusEnum": "marketdesk.sales.models.ProductStatus",
        "SalesPayMethodEnum": "marketdesk.sales.models.PayMethod",
        "ChannelTierEnum": "marketdesk.sales.models.ChannelTier",
        "CreditModeEnum": "marketdesk.sales.models.CreditMode",
        "PaymentTermsEnum": "marketdesk.sales.models.PaymentTerms",
        "SalesTargetMetricEnum": "marketdesk.sales.models.TargetMetric",
        "SalesTargetSubjectEnum": "marketdesk.sales.models.TargetSubject",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SILENCED_SYSTEM_CHECKS: list[str] = []
