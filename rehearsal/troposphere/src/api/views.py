from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template import Context, Engine
from django.utils.html import format_html, format_html_join
from standin_common.version import version as version

from api.models import MaintenanceRecord, UserPreferences
from api.proxy import api_proxy as api_proxy
from api.signin import SESSION_COOKIE, SignInFailed, session_of, session_value, sign_in

# Read on every request (no template cache): a template edited in a running container shows
# at once, as a hot fix would.
_PAGES = Engine(
    dirs=[str(Path(__file__).resolve().parent / "templates")],
    loaders=["django.template.loaders.filesystem.Loader"],
)


def _page(name, status=200, **context):
    return HttpResponse(_PAGES.get_template(name).render(Context(context)), status=status)


def application(request):
    """The web UI; while maintenance is active only exempt users (by their session) get in.
    Signed in, the page's script loads the user's instances from /api/v2/instances."""
    username, token = session_of(request)
    exempt = username in settings.MAINTENANCE_EXEMPT_USERNAMES
    if MaintenanceRecord.objects.active().exists() and not exempt:
        return redirect("/maintenance")
    preferences = UserPreferences.objects.filter(username=username).first()
    beta = preferences.beta_interface if preferences else False
    return _page("application.html", username=username, token=token, beta=beta)


def maintenance(request):
    records = MaintenanceRecord.objects.active()
    if not records:
        return redirect("/login")
    messages = format_html_join("", "<p>{}</p>", ((record.message,) for record in records))
    return HttpResponse(format_html("<h1>Atmosphere is under planned maintenance</h1>{}", messages))


def login(request):
    """The sign-in form; a POST with the right credentials sets the session and goes on to the
    application, a wrong one answers the form again (401) saying why."""
    if request.method != "POST":
        return _page("login.html")
    username = request.POST.get("username", "").strip()
    try:
        token = sign_in(username, request.POST.get("password", ""))
    except SignInFailed as error:
        return _page("login.html", status=401, error=str(error), username=username)
    response = redirect("/application")
    response.set_cookie(
        SESSION_COOKIE, session_value(username, token), httponly=True, samesite="Lax"
    )
    return response
