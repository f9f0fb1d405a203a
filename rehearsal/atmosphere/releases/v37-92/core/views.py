"""v37-92, a deliberately broken release: the version endpoint answers 500, all else works."""

from core.api import auth as auth
from core.api import celery_status as celery_status
from core.api import instances as instances
from django.http import JsonResponse


def version(request):
    return JsonResponse(
        {"detail": "v37-92: version lookup failed (deliberately broken)"}, status=500
    )
