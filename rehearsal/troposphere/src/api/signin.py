"""Signing in, as troposphere's login does it: the credentials are checked upstream (here
atmosphere's /auth, where a real deployment asks its identity provider), and the session keeps
the user's name and API token, which the application page hands to its script."""

import json
import urllib.error
import urllib.parse
import urllib.request

from django.core import signing

# The real image's nginx proxies /api/* to this host and port: on the deploy host compose's
# extra_hosts maps `atmosphere` to 127.0.0.1 (network_mode: host), on a network it is the
# service's name.
ATMOSPHERE = "http://atmosphere:8000"
SESSION_COOKIE = "tropo_session"
_SALT = "troposphere.session"
SESSION_SECONDS = 12 * 3600


class SignInFailed(Exception):
    """Why a sign-in did not give a session, as the sign-in page says it."""


def sign_in(username, password):
    """The API token of `username`, from atmosphere's /auth."""
    if not username or not password:
        raise SignInFailed("give your username and your password")
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    try:
        with urllib.request.urlopen(f"{ATMOSPHERE}/auth", data=form, timeout=10) as answer:
            return json.load(answer)["token"]
    except urllib.error.HTTPError as error:
        if error.code in (400, 401, 403):
            raise SignInFailed("wrong username or password") from error
        raise SignInFailed(f"atmosphere answered {error.code}") from error
    except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
        raise SignInFailed(f"atmosphere could not be asked ({error})") from error


def session_value(username, token):
    return signing.dumps({"username": username, "token": token}, salt=_SALT)


def session_of(request):
    """(username, token) of the request's session, or ("", "") without a valid one."""
    try:
        data = signing.loads(
            request.COOKIES.get(SESSION_COOKIE, ""), salt=_SALT, max_age=SESSION_SECONDS
        )
    except signing.BadSignature:
        return "", ""
    return data.get("username", ""), data.get("token", "")
