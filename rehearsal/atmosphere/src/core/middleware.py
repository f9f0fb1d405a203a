from django.conf import settings
from django.http import JsonResponse

from core.models import AtmosphereUser, MaintenanceRecord

OPEN_DURING_MAINTENANCE = "/api/status/celery"


class MaintenanceMiddleware:
    """Sets request.atmo_user from the request's API token (None without a valid one). While a
    global maintenance record is active, every /api/* view answers 503 with the record, except
    /api/status/celery and requests with the API token of an exempt user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.atmo_user = _token_user(request)
        path = request.path.rstrip("/")
        if path.startswith("/api/") and path != OPEN_DURING_MAINTENANCE:
            record = MaintenanceRecord.objects.active().filter(provider_id=None).last()
            if record and not _is_exempt(request.atmo_user):
                return JsonResponse({"detail": f"{record.title}: {record.message}"}, status=503)
        return self.get_response(request)


def _token_user(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Token" or not token:
        return None
    return AtmosphereUser.objects.filter(api_token=token).first()


def _is_exempt(user):
    return user is not None and user.username in settings.MAINTENANCE_EXEMPT_USERNAMES
