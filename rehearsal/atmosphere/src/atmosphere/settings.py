"""Settings of the Atmosphere stand-in: the shared ones, read from variables.ini, come from
standin_common.settings."""

from standin_common.settings import *  # noqa: F403

INSTALLED_APPS = ["core"]
MIDDLEWARE = ["core.middleware.MaintenanceMiddleware"]
ROOT_URLCONF = "atmosphere.urls"
WSGI_APPLICATION = "atmosphere.wsgi.application"
