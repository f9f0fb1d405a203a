"""Settings of the Troposphere stand-in: the shared ones, read from variables.ini, come from
standin_common.settings."""

from standin_common.settings import *  # noqa: F403

INSTALLED_APPS = ["api"]
ROOT_URLCONF = "troposphere.urls"
WSGI_APPLICATION = "troposphere.wsgi.application"
