from django.http import JsonResponse
from standin_common.version import version as version

from core.models import Instance


def instances(request):
    rows = Instance.objects.select_related("owner").order_by("id")
    return JsonResponse({"results": [instance.as_json() for instance in rows]})


def celery_status(request):
    return JsonResponse({"celery": "ok"})
