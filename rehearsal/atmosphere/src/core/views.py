from standin_common.version import version as version

from core.api import auth as auth
from core.api import celery_status as celery_status
from core.api import instances as instances
