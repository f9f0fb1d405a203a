"""git command lines, always with `-C <dir>` so nothing depends on the working directory."""

from __future__ import annotations

from pathlib import Path

from atmo_release.commands import Read


def _git(directory: Path, *args: str) -> list[str]:
    return ["git", "-C", str(directory), *args]


def _read(directory: Path, *args: str) -> Read:
    return Read(_git(directory, *args))


def checkout(directory: Path, branch: str) -> list[str]:
    return _git(directory, "checkout", branch)


def current_branch(directory: Path) -> Read:
    return _read(directory, "symbolic-ref", "--short", "-q", "HEAD")


def rev_parse(directory: Path, ref: str) -> Read:
    return _read(directory, "rev-parse", ref)


def status(directory: Path) -> Read:
    return _read(directory, "status", "--porcelain")


def diff(directory: Path) -> Read:
    return _read(directory, "diff", "HEAD")


def branches(directory: Path) -> Read:
    return _read(directory, "for-each-ref", "--format=%(refname:short)", "refs/heads")


def fetch(directory: Path) -> Read:
    return _read(directory, "fetch", "--quiet")


def incoming(directory: Path) -> Read:
    return _read(directory, "log", "--format=%H %an %ad %s", "--date=iso", "HEAD..@{u}")


def is_ancestor(directory: Path, ancestor: str, descendant: str) -> Read:
    """Exit 0 when `descendant` contains `ancestor`: a pull --ff-only between them works."""
    return _read(directory, "merge-base", "--is-ancestor", ancestor, descendant)


def outgoing(directory: Path) -> Read:
    """The local commits upstream does not have: what stops a fast-forward."""
    return _read(directory, "log", "--format=%h %s", "@{u}..HEAD")


def reset_hard(directory: Path) -> list[str]:
    return _git(directory, "reset", "--hard", "--quiet")


def reset_hard_to(directory: Path, commit: str) -> list[str]:
    return _git(directory, "reset", "--hard", "--quiet", commit)


def apply(directory: Path, patch: Path | str) -> list[str]:
    """Re-apply saved local changes (a `git diff HEAD`) to the working tree."""
    return _git(directory, "apply", "--whitespace=nowarn", str(patch))


def pull(directory: Path) -> list[str]:
    return _git(directory, "pull", "--ff-only", "--quiet")


def show(directory: Path, commit: str, path: str) -> Read:
    return _read(directory, "show", f"{commit}:{path}")


def has_branch(directory: Path, branch: str) -> Read:
    return _read(directory, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")


def has_commit(directory: Path, commit: str) -> Read:
    return _read(directory, "cat-file", "-e", f"{commit}^{{commit}}")


def clone(source: str, directory: Path) -> list[str]:
    """A fresh clone; `source` is a URL or a path (the rehearsal's upstreams are paths)."""
    return ["git", "clone", "--quiet", source, str(directory)]


def ls_remote(source: str, ref: str) -> Read:
    """`<sha>\\t<ref>` of `ref` as the upstream has it now, without touching a checkout."""
    return Read(["git", "ls-remote", source, ref])


def last_commit_before(directory: Path, ref: str, when: str) -> Read:
    """The newest commit of `ref` made at or before `when` (ISO 8601); empty if none."""
    return _read(directory, "rev-list", "-n", "1", f"--before={when}", ref, "--")


def commit_date(directory: Path, ref: str) -> Read:
    """The committer date of `ref`, strict ISO 8601."""
    return _read(directory, "log", "-1", "--format=%cI", ref, "--")
