from django.conf import settings
from django.http import JsonResponse

from core.models import AtmosphereUser, MaintenanceRecord

OPEN_DURING_MAINTENANCE = "/api/status/celery"


class MaintenanceMiddleware:
    """While a global maintenance record is active, every /api/* view answers 503 with the record,
    except /api/status/celery and requests with the API token of an exempt user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path.rstrip("/")
        if path.startswith("/api/") and path != OPEN_DURING_MAINTENANCE:
            record = MaintenanceRecord.objects.active().filter(provider_id=None).last()
            if record and not _is_exempt(request):
                return JsonResponse({"detail": f"{record.title}: {record.message}"}, status=503)
        return self.get_response(request)


def _is_exempt(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return (
        scheme == "Token"
        and bool(token)
        and AtmosphereUser.objects.filter(
            api_token=token, username__in=settings.MAINTENANCE_EXEMPT_USERNAMES
        ).exists()
    )
