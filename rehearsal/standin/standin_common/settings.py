"""Settings both stand-ins share; an app's settings package star-imports them, then the site's
own from the local.py that configure rendered (DATABASES, SECRET_KEY,
MAINTENANCE_EXEMPT_USERNAMES), then adds its own (INSTALLED_APPS, ROOT_URLCONF, ...)."""

from pathlib import Path

__all__ = [
    "ALLOWED_HOSTS",
    "BASE_DIR",
    "DEBUG",
    "DEFAULT_AUTO_FIELD",
    "LOGGING",
    "TIME_ZONE",
    "USE_TZ",
]

# This package sits in the app's code folder, /opt/dev/<app>.
BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = False
ALLOWED_HOSTS = ["*"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "ERROR"}},
}
