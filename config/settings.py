"""Settings from environment variables.

With none set the app runs embedded: SQLite, and tasks executed in-process. Set DATABASE_URL
and CELERY_BROKER_URL to run on PostgreSQL and Redis with separate `celery worker` processes,
which share the database with the web process, and either CATALOG_MEDIA_ROOT (a shared folder) or, with
CATALOG_STORAGE=s3, an S3-compatible bucket: then no host shares a disk with another.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.environment import choice, flag, integer, names, networks, number, rate
from config.storage import s3_options

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CATALOG_VAR_DIR", BASE_DIR / "var"))


# Off unless asked for: Django's debug page shows settings and tracebacks to whoever causes an error.
DEBUG = flag("DJANGO_DEBUG", False)


# Django's own advice: a key shorter than this (or a public one) lets sessions and password-reset
# links be forged; bin/secret-key makes 67 random characters.
MIN_SECRET_KEY_LENGTH = 50
DEVELOPMENT_KEY = "insecure-development-key-set-DJANGO_SECRET_KEY"


def secret_key():
    """DJANGO_SECRET_KEY, or the one bin/secret-key made for this machine; never a public or short
    one outside debug."""
    key_file = VAR_DIR / "secret_key"
    key = os.environ.get("DJANGO_SECRET_KEY") or (key_file.read_text().strip() if key_file.is_file() else "")
    if DEBUG:
        if not key:
            print("DJANGO_DEBUG=1 and no secret key: using the public development key. Never let others reach "
                  "this server; set DJANGO_SECRET_KEY or run bin/secret-key.", file=sys.stderr)
        return key or DEVELOPMENT_KEY
    if not key:
        raise ImproperlyConfigured(
            f"No secret key: set DJANGO_SECRET_KEY to a long random value, or run bin/secret-key to make one in "
            f"{key_file} (bin/run does), or set DJANGO_DEBUG=1 for development on your own machine.")
    if len(key) < MIN_SECRET_KEY_LENGTH or key == DEVELOPMENT_KEY:
        raise ImproperlyConfigured(
            f"The secret key is {'the public development key' if key == DEVELOPMENT_KEY else f'{len(key)} characters'}"
            f": set DJANGO_SECRET_KEY to at least {MIN_SECRET_KEY_LENGTH} random characters, or run bin/secret-key.")
    return key


SECRET_KEY = secret_key()
ALLOWED_HOSTS = names("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
# Behind a proxy that ends HTTPS (README, "Behind a proxy"): the address sellers use, and the
# proxy's word that the request came over HTTPS; cookies then travel over HTTPS only, a plain HTTP
# request is redirected, and browsers are told to use HTTPS only for a year (HSTS), so that
# `manage.py check --deploy` has nothing to say.
CSRF_TRUSTED_ORIGINS = names("DJANGO_CSRF_TRUSTED_ORIGINS", "")
if flag("CATALOG_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^health$"]  # a load balancer's check comes over plain HTTP
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# The proxies whose X-Forwarded-For is believed (catalog.client_address): every limit by address
# (sign-ups, password guesses, anonymous API requests) counts the address the nearest proxy not in
# this list saw. None by default: the header is anyone's to forge.
CATALOG_TRUSTED_PROXIES = networks("CATALOG_TRUSTED_PROXIES")
# Joining the browsers' HSTS preload list is the site owner's choice, made by hand at hstspreload.org.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "catalog",
    "worker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app server itself (bin/run collects them into STATIC_ROOT).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "catalog.middleware.CategoryTreeMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite creates its file, not its folder
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}", conn_max_age=60,
                                              conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded server writes from its request threads and its background task thread at once:
    # readers do not wait for a writer (WAL), and a writer waits its turn instead of failing with
    # "database is locked" (an immediate transaction takes the write lock at its start).
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE",
                                       "init_command": "PRAGMA journal_mode=WAL;"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Password guessing: after AXES_FAILURE_LIMIT wrong passwords for one account from one address, or
# from one address for any accounts, logging in from there waits AXES_COOLOFF_TIME (the web page
# and the admin alike), the address being the client's (CATALOG_TRUSTED_PROXIES). Not per account
# alone: anyone could then lock any seller out; per account, attempts are only slowed (catalog.login).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)  # registration/locked_out.html says "a quarter of an hour"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "catalog.client_address.client_address"
# Per account, wrong passwords only slow the next attempt (catalog.login), at most this long.
CATALOG_LOGIN_SLOWDOWN_LIMIT = integer("CATALOG_LOGIN_SLOWDOWN_LIMIT", 30, minimum=0)
AXES_VERBOSE = False  # its banner was printed by every manage.py command
# Sign-up attempts per address, counted in the default cache like the API's rates.
CATALOG_SIGNUP_RATE = rate("CATALOG_SIGNUP_RATE", "10/hour")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "listing-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Requests per seller, whichever of their tokens (or browser session) they come with, e.g.
# "600/minute"; counted in the default cache, which must be shared (CATALOG_CACHE_URL, e.g.
# redis://127.0.0.1:6379/1) when several web processes serve the API, or each counts on its own.
CATALOG_API_RATE = rate("CATALOG_API_RATE", "600/minute")
# Live API tokens a seller may hold at once (revoke one to make another).
CATALOG_MAX_API_TOKENS = integer("CATALOG_MAX_API_TOKENS", 10, minimum=1)
if os.environ.get("CATALOG_CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["CATALOG_CACHE_URL"]}}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "catalog.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["catalog.api_auth.PerSellerThrottle"],
    "DEFAULT_PAGINATION_CLASS": "catalog.pagination.Pages",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "catalog.schema.CatalogAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    "EXCEPTION_HANDLER": "catalog.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Catalog auto-categorization API",
    "DESCRIPTION": "Create listings from product photos and read the categories found for each item. "
                   "Authenticate with `Authorization: Token <key>` (create keys under API tokens).",
    "VERSION": "1.9.0",  # CHANGELOG.md records what each version changed
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # One name per choice set, rather than the generated "Outcome215Enum" a client would be given.
    "ENUM_NAME_OVERRIDES": {"OutcomeEnum": "catalog.models.Outcome", "ListingStatusEnum": "catalog.models.ListingStatus"},
}

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start until collectstatic fills it
# Where nothing was collected (tests, a first start), WhiteNoise finds the files where they are.
WHITENOISE_USE_FINDERS = True
# Photos are served only through views that check ownership, never straight from MEDIA_URL.
MEDIA_ROOT = Path(os.environ.get("CATALOG_MEDIA_ROOT", VAR_DIR / "media"))
# Where every stored file lives (photos, display copies, heatmaps, bulk archives in flight,
# reference photos, and the index snapshots workers start from): on local disk under MEDIA_ROOT
# (one host, or hosts that share that folder), or in an S3-compatible bucket (AWS S3, MinIO, Ceph,
# SeaweedFS: bin/services starts one) that any number of hosts share without a shared disk. The
# bucket stays private: pages and the API serve a photo through a view that checks its owner, which
# then redirects to a signed URL that expires after AWS_QUERYSTRING_EXPIRE seconds.
CATALOG_STORAGE = choice("CATALOG_STORAGE", "local", ("local", "s3"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The bucket, wherever AWS_STORAGE_BUCKET_NAME names one: the storage with CATALOG_STORAGE=s3, and
# what `manage.py move_media` copies to or from before that is set.
CATALOG_S3_OPTIONS = None
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    CATALOG_S3_OPTIONS = s3_options(
        os.environ["AWS_STORAGE_BUCKET_NAME"], os.environ.get("AWS_S3_ENDPOINT_URL") or None,
        os.environ.get("AWS_S3_REGION_NAME") or None,
        choice("AWS_S3_ADDRESSING_STYLE", "path" if os.environ.get("AWS_S3_ENDPOINT_URL") else "auto",
               ("path", "virtual", "auto")),
        integer("AWS_QUERYSTRING_EXPIRE", 300, minimum=1))
if CATALOG_STORAGE == "s3":
    if CATALOG_S3_OPTIONS is None:
        raise ImproperlyConfigured(
            "CATALOG_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME, and for a server other than AWS's its address in "
            "AWS_S3_ENDPOINT_URL (e.g. http://127.0.0.1:8333); the keys come from AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY.")
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": CATALOG_S3_OPTIONS}

# The longest a web request may run before the server (config/gunicorn.py reads the same variable)
# gives up on it; an Idempotency-Key claimed by a request older than this is free again.
CATALOG_WEB_TIMEOUT = integer("CATALOG_WEB_TIMEOUT", 300, minimum=1)

# Uploads: Django streams files over this size to disk instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
CATALOG_MAX_PHOTO_BYTES = integer("CATALOG_MAX_PHOTO_BYTES", 20 * 1024 * 1024, minimum=1)
CATALOG_MAX_PHOTO_PIXELS = integer("CATALOG_MAX_PHOTO_PIXELS", 50_000_000, minimum=1)
CATALOG_MAX_PHOTOS_PER_LISTING = integer("CATALOG_MAX_PHOTOS_PER_LISTING", 20, minimum=1)
CATALOG_MAX_BULK_ROWS = integer("CATALOG_MAX_BULK_ROWS", 5000, minimum=1)
CATALOG_MAX_BULK_BYTES = integer("CATALOG_MAX_BULK_BYTES", 2 * 1024 ** 3, minimum=1)
# What one request's photos may add up to once decoded (about 1,600 photos of 12 megapixels), and
# the photos and decoded megapixels one seller may upload in 24 hours, whichever way (by default
# the photos at 12 megapixels each): each costs worker time, counted as spent when uploaded, so
# deleting a listing gives nothing back.
CATALOG_MAX_REQUEST_PIXELS = integer("CATALOG_MAX_REQUEST_PIXELS", 20_000_000_000, minimum=1)
CATALOG_SELLER_PHOTOS_PER_DAY = integer("CATALOG_SELLER_PHOTOS_PER_DAY", 20_000, minimum=1)
CATALOG_SELLER_MEGAPIXELS_PER_DAY = integer("CATALOG_SELLER_MEGAPIXELS_PER_DAY",
                                            12 * CATALOG_SELLER_PHOTOS_PER_DAY, minimum=1)

# The vision models, the same for the web process (which never loads them) and the workers.
CATALOG_BACKBONE = os.environ.get("CATALOG_BACKBONE", "efficientnet_lite0")
CATALOG_INDEX_PATH = Path(os.environ.get("CATALOG_INDEX_PATH", VAR_DIR / "index" / "reference.npz"))
# With snapshots the index file is shared through the storage above (worker.index_snapshots): whoever
# rewrites it publishes the new file as a snapshot there, and each host keeps its own copy at
# CATALOG_INDEX_PATH, fetched when a newer snapshot appears (checked every CATALOG_INDEX_CHECK_SECONDS
# at most). On by default with the bucket, where no two hosts share a disk.
CATALOG_INDEX_SNAPSHOTS = flag("CATALOG_INDEX_SNAPSHOTS", CATALOG_STORAGE == "s3")
CATALOG_INDEX_CHECK_SECONDS = number("CATALOG_INDEX_CHECK_SECONDS", 5, minimum=0)
# Reference embeddings by photo content and model version, outside the database and the clone
# (vision.embedding_cache): a fresh database or a second install on the machine reuses them. Empty: none.
CATALOG_EMBEDDING_CACHE = os.environ.get("CATALOG_EMBEDDING_CACHE",
                                         str(Path.home() / ".cache" / "catalog-embeddings" / "embeddings.sqlite3"))
# Workers apply reference changes to their index in memory before each photo; the file is
# rewritten (compacted) by the scheduled update once this many changes have gathered or the oldest
# has waited this long: a rewrite of a large index is a large write, and every worker reloads it.
CATALOG_INDEX_COMPACT_CHANGES = integer("CATALOG_INDEX_COMPACT_CHANGES", 10_000, minimum=1)
CATALOG_INDEX_COMPACT_SECONDS = number("CATALOG_INDEX_COMPACT_SECONDS", 3600, minimum=1)
# What runs the models: ONNX Runtime on the files training exports (vision.onnx_runtime; no
# PyTorch needed; 2 to 2.5 times the photos a second on this CPU, bench/README.md), with its CPU
# or CUDA execution provider, or PyTorch. The same weights either way: the index is the same.
CATALOG_RUNTIME = choice("CATALOG_RUNTIME", "onnx", ("onnx", "torch"))
# Where the .onnx files are; unset: beside the weights, else the shipped ones (vision.onnx_runtime.onnx_path).
CATALOG_ONNX_DIR = os.environ.get("CATALOG_ONNX_DIR") or None
CATALOG_ONNX_PROVIDER = choice("CATALOG_ONNX_PROVIDER", "cpu", ("cpu", "cuda"))
CATALOG_DEVICE = os.environ.get("CATALOG_DEVICE") or None
# A worker categorizes up to this many queued photos in one pass (one segmentation batch, one
# embedding batch): a GPU worker wants batches; on a CPU it saves little (bench/README.md).
CATALOG_BATCH_PHOTOS = integer("CATALOG_BATCH_PHOTOS", 1, minimum=1)
# The model that finds the items of a photo (vision/weights/segmenters/NAME.pt, or on ONNX Runtime
# vision/weights/onnx/NAME.onnx); empty: every photo is categorized whole, as one item. By default
# the product detector (vision.segment.DEFAULT_SEGMENTER, on either runtime in float);
# unet_lite0_real_int8 is the UNet before it.
CATALOG_SEGMENTER = os.environ.get("CATALOG_SEGMENTER", "detector_lite0")
# OCR (vision.text) on a listing's first photo: the text on the product, kept per item for staff,
# and a suggested title. 0 turns it off.
CATALOG_READ_TEXT = flag("CATALOG_READ_TEXT", True)
# Answers are accepted without review where the index's calibration says they reach this
# precision (vision.calibration); the rest need review.
CATALOG_AUTO_ACCEPT_PRECISION = number("CATALOG_AUTO_ACCEPT_PRECISION", 0.98)
if not 0.5 <= CATALOG_AUTO_ACCEPT_PRECISION < 1:
    raise ImproperlyConfigured("CATALOG_AUTO_ACCEPT_PRECISION must be at least 0.5 and below 1, e.g. 0.98.")
# The share of automatically accepted items drawn at random for a blind audit by staff (catalog.audits):
# what measures the precision of automatic acceptance on the live stream. 0 turns audits off.
CATALOG_AUDIT_RATE = number("CATALOG_AUDIT_RATE", 0.05)
if not 0 <= CATALOG_AUDIT_RATE <= 1:
    raise ImproperlyConfigured("CATALOG_AUDIT_RATE must be between 0 and 1, e.g. 0.05.")

# Without a broker, tasks run in the process that enqueues them: the embedded mode. Celery still
# takes a producer from its pool for an eager task, so point it at the in-memory transport
# rather than the default AMQP address.
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_BROKER_URL")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
# How a task runs in the embedded mode: "inline", in the process and request that sends it (commands,
# tests), or "background", on a thread of the web server's own (worker.embedded), so an upload is
# answered at once; the web server of bin/run (config/gunicorn.py) sets "background".
CATALOG_EMBEDDED_TASKS = os.environ.get("CATALOG_EMBEDDED_TASKS", "inline")
if CATALOG_EMBEDDED_TASKS not in ("inline", "background"):
    raise ImproperlyConfigured("CATALOG_EMBEDDED_TASKS must be 'inline' or 'background'.")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "catalog")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task that failed unexpectedly (its database gone mid-failure) is delivered again rather than
# dropped; the sweeper also resends its photo sooner.
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker takes a message only when a process is free: a worker killed then held nothing but the
# photos it was on, which the sweeper finds; a prefetched message would hide in Redis for the
# visibility timeout (an hour).
CELERY_WORKER_DISABLE_PREFETCH = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Training belongs on a GPU worker: start one there with `bin/worker --queues training`. The
# sweeper has a queue of its own, so that a backlog of photos never delays it: `bin/worker sweeper`.
CELERY_TASK_ROUTES = {"worker.tasks.train_embedder_on_references": {"queue": "training"},
                      "worker.tasks.requeue_stale_photos": {"queue": "sweeper"},
                      "worker.tasks.draw_daily_audits": {"queue": "sweeper"},
                      "worker.tasks.refit_thresholds": {"queue": "sweeper"},
                      "worker.tasks.tidy_up": {"queue": "sweeper"}}
CATALOG_SWEEP_SECONDS = number("CATALOG_SWEEP_SECONDS", 60, minimum=1)
# The sweeper worker runs the schedule (bin/worker sweeper); cron can run the same commands.
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-photos": {"task": "worker.tasks.requeue_stale_photos", "schedule": CATALOG_SWEEP_SECONDS},
    "update-reference-index": {"task": "worker.tasks.update_reference_index", "schedule": 600.0},
    "draw-daily-audits": {"task": "worker.tasks.draw_daily_audits", "schedule": 3600.0},
    "refit-thresholds": {"task": "worker.tasks.refit_thresholds", "schedule": 3600.0},
    "tidy-up": {"task": "worker.tasks.tidy_up", "schedule": 3600.0},
}
# Redis redelivers an unacknowledged task after this; it must exceed the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

LOG_LEVELS = ("debug", "info", "warning", "warn", "error", "critical", "notset")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": choice("CATALOG_LOG_LEVEL", "info", LOG_LEVELS).upper()},
    # faiss logs every CPU-feature probe it tries at INFO.
    "loggers": {"faiss.loader": {"level": "WARNING"}},
}
