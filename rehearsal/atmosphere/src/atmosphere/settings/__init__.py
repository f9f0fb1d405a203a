"""Settings of the Atmosphere stand-in: the shared ones come from standin_common.settings, the
site's from local.py, which configure renders from variables.ini on every start (it is not in
the image: without configure, Django cannot start)."""

from standin_common.settings import *  # noqa: F403

from atmosphere.settings.local import *  # noqa: F403

INSTALLED_APPS = ["core"]
MIDDLEWARE = ["core.middleware.MaintenanceMiddleware"]
ROOT_URLCONF = "atmosphere.urls"
WSGI_APPLICATION = "atmosphere.wsgi.application"
