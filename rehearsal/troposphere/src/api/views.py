from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html, format_html_join
from standin_common.version import version as version

from api.models import MaintenanceRecord, UserPreferences


def application(request):
    """The web UI; while maintenance is active only exempt users (cookie tropo_user) get in."""
    username = request.COOKIES.get("tropo_user", "")
    exempt = username in settings.MAINTENANCE_EXEMPT_USERNAMES
    if MaintenanceRecord.objects.active().exists() and not exempt:
        return redirect("/maintenance")
    preferences = UserPreferences.objects.filter(username=username).first()
    beta = preferences.beta_interface if preferences else False
    return HttpResponse(
        format_html(
            "<h1>Atmosphere</h1><p>Signed in as {}. Beta interface: {}.</p>",
            username or "nobody",
            "on" if beta else "off",
        )
    )


def maintenance(request):
    records = MaintenanceRecord.objects.active()
    if not records:
        return redirect("/login")
    messages = format_html_join("", "<p>{}</p>", ((record.message,) for record in records))
    return HttpResponse(format_html("<h1>Atmosphere is under planned maintenance</h1>{}", messages))


def login(request):
    return HttpResponse("<h1>Log in to Atmosphere</h1>")
