"""The API views every release shares (a release overlay may replace core/views.py alone)."""

from django.http import JsonResponse

from core.models import AtmosphereUser, Instance


def instances(request):
    """The instances of the user whose token the request carries; every instance without one."""
    rows = Instance.objects.select_related("owner").order_by("id")
    if request.atmo_user is not None:
        rows = rows.filter(owner=request.atmo_user)
    return JsonResponse({"results": [instance.as_json() for instance in rows]})


def celery_status(request):
    return JsonResponse({"celery": "ok"})


def auth(request):
    """POST username and password: 201 with the user's API token, as atmosphere's /auth gives
    troposphere's sign-in one. The stand-in has no directory service: a user's password is
    their API token, and a user without one cannot sign in."""
    if request.method != "POST":
        return JsonResponse({"detail": 'Method "GET" not allowed.'}, status=405)
    username, password = request.POST.get("username", ""), request.POST.get("password", "")
    user = (
        AtmosphereUser.objects.filter(username=username, api_token=password).first()
        if username and password
        else None
    )
    if user is None:
        return JsonResponse({"detail": "Invalid username/password."}, status=401)
    return JsonResponse({"username": user.username, "token": user.api_token}, status=201)
