"""git command lines, always with `-C <dir>` so nothing depends on the working directory."""

from __future__ import annotations

from pathlib import Path


def _git(directory: Path, *args: str) -> list[str]:
    return ["git", "-C", str(directory), *args]


def checkout(directory: Path, branch: str) -> list[str]:
    return _git(directory, "checkout", branch)


def current_branch(directory: Path) -> list[str]:
    return _git(directory, "symbolic-ref", "--short", "-q", "HEAD")


def rev_parse(directory: Path, ref: str) -> list[str]:
    return _git(directory, "rev-parse", ref)


def status(directory: Path) -> list[str]:
    return _git(directory, "status", "--porcelain")


def diff(directory: Path) -> list[str]:
    return _git(directory, "diff", "HEAD")


def fetch(directory: Path) -> list[str]:
    return _git(directory, "fetch", "--quiet")


def incoming(directory: Path) -> list[str]:
    return _git(directory, "log", "--format=%H %an %ad %s", "--date=iso", "HEAD..@{u}")


def reset_hard(directory: Path) -> list[str]:
    return _git(directory, "reset", "--hard", "--quiet")


def pull(directory: Path) -> list[str]:
    return _git(directory, "pull", "--ff-only", "--quiet")


def show(directory: Path, commit: str, path: str) -> list[str]:
    return _git(directory, "show", f"{commit}:{path}")


def has_commit(directory: Path, commit: str) -> list[str]:
    return _git(directory, "cat-file", "-e", f"{commit}^{{commit}}")


def clone(source: str, directory: Path) -> list[str]:
    """A fresh clone; `source` is a URL or a path (the rehearsal's upstreams are paths)."""
    return ["git", "clone", "--quiet", source, str(directory)]


def ls_remote(source: str, ref: str) -> list[str]:
    """`<sha>\\t<ref>` of `ref` as the upstream has it now, without touching a checkout."""
    return ["git", "ls-remote", source, ref]
