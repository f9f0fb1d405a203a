"""Settings of the Troposphere stand-in: the shared ones come from standin_common.settings, the
site's from local.py, which configure renders from variables.ini on every start (it is not in
the image: without configure, Django cannot start)."""

from standin_common.settings import *  # noqa: F403

from troposphere.settings.local import *  # noqa: F403

INSTALLED_APPS = ["api"]
ROOT_URLCONF = "troposphere.urls"
WSGI_APPLICATION = "troposphere.wsgi.application"
