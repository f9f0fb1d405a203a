"""v37-92, a deliberately broken release: the version endpoint answers 500, all else works."""

from core.models import Instance
from django.http import JsonResponse


def version(request):
    return JsonResponse(
        {"detail": "v37-92: version lookup failed (deliberately broken)"}, status=500
    )


def instances(request):
    rows = Instance.objects.select_related("owner").order_by("id")
    return JsonResponse({"results": [instance.as_json() for instance in rows]})


def celery_status(request):
    return JsonResponse({"celery": "ok"})
