from atmosphere.version import git_version
from django.http import JsonResponse

from core.models import Instance


def version(request):
    return JsonResponse(git_version())


def instances(request):
    rows = Instance.objects.select_related("owner").order_by("id")
    return JsonResponse({"results": [instance.as_json() for instance in rows]})


def celery_status(request):
    return JsonResponse({"celery": "ok"})
