"""/api/* forwarded to atmosphere, as the nginx inside the real troposphere image does: the
method, the query, the body and the Authorization header go through, the answer comes back."""

import urllib.error
import urllib.request

from django.http import HttpResponse, JsonResponse

from api.signin import ATMOSPHERE

_FORWARDED = ("Authorization", "Content-Type", "Accept")


def api_proxy(request, path):
    query = request.META.get("QUERY_STRING", "")
    url = f"{ATMOSPHERE}/api/{path}" + (f"?{query}" if query else "")
    headers = {name: request.headers[name] for name in _FORWARDED if name in request.headers}
    upstream = urllib.request.Request(
        url, data=request.body or None, headers=headers, method=request.method
    )
    try:
        with urllib.request.urlopen(upstream, timeout=30) as answer:
            status, body, kind = answer.status, answer.read(), answer.headers.get("Content-Type")
    except urllib.error.HTTPError as error:
        status, body, kind = error.code, error.read(), error.headers.get("Content-Type")
    except (urllib.error.URLError, OSError) as error:
        return JsonResponse(
            {"detail": f"Bad Gateway: troposphere could not reach atmosphere ({error})"},
            status=502,
        )
    return HttpResponse(body, status=status, content_type=kind or "application/json")
