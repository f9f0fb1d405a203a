"""Settings both stand-ins share; an app's settings module star-imports them and adds its own
(INSTALLED_APPS, ROOT_URLCONF, ...). The site-specific ones come from variables.ini, which the
entrypoint links from the secrets checkout (section [local.py], upper-case keys)."""

import configparser
from pathlib import Path

__all__ = [
    "ALLOWED_HOSTS",
    "BASE_DIR",
    "DATABASES",
    "DEBUG",
    "DEFAULT_AUTO_FIELD",
    "LOGGING",
    "MAINTENANCE_EXEMPT_USERNAMES",
    "SECRET_KEY",
    "TIME_ZONE",
    "USE_TZ",
]

# This package sits in the app's code folder, /opt/dev/<app>.
BASE_DIR = Path(__file__).resolve().parent.parent

_ini = configparser.ConfigParser(interpolation=None)
_ini.optionxform = str
with open(BASE_DIR / "variables.ini") as ini_file:
    _ini.read_file(ini_file)
_local = _ini["local.py"]

SECRET_KEY = _local["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["*"]
MAINTENANCE_EXEMPT_USERNAMES = [
    name.strip()
    for name in _local.get("MAINTENANCE_EXEMPT_USERNAMES", "").split(",")
    if name.strip()
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _local["DATABASE_NAME"],
        "USER": _local["DATABASE_USER"],
        "PASSWORD": _local["DATABASE_PASSWORD"],
        "HOST": _local["DATABASE_HOST"],
        "PORT": _local.get("DATABASE_PORT", "5432"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "ERROR"}},
}
