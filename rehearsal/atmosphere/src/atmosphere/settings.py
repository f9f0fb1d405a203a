"""Settings of the Atmosphere stand-in: the site-specific ones come from variables.ini, which the
entrypoint links from the secrets checkout (section [local.py], upper-case keys)."""

import configparser
from pathlib import Path

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

INSTALLED_APPS = ["core"]
MIDDLEWARE = ["core.middleware.MaintenanceMiddleware"]
ROOT_URLCONF = "atmosphere.urls"
WSGI_APPLICATION = "atmosphere.wsgi.application"
USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "ERROR"}},
}
