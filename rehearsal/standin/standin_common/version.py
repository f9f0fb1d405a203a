"""The version the image reports: the commit of the .git baked in at build time."""

import functools
import subprocess

from django.conf import settings
from django.http import JsonResponse


def _git(*args):
    return subprocess.run(
        ["git", "-C", str(settings.BASE_DIR), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@functools.cache
def git_version():
    sha, sha_abbrev, commit_date = _git("log", "-1", "--format=%H%n%h%n%cI").splitlines()
    return {
        "git_sha": sha,
        "git_sha_abbrev": sha_abbrev,
        "git_branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        "commit_date": commit_date,
    }


def version(request):
    """The version view (atmosphere /api/v2/version, troposphere /tropo-api/version)."""
    return JsonResponse(git_version())
