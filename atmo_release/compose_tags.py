"""Edit image tags in a compose file by hand's rules: only the tag changes, every other byte stays.

python -m atmo_release.compose_file docker-compose.prod.yml --set atmosphere=release-v37-3
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+|'[^']*'|\"[^\"]*\")\s*:(?P<rest>.*)$")
_IMAGE = re.compile(
    r"^(?P<head> *image\s*:\s*)(?P<quote>['\"]?)(?P<value>[^'\"#\s]+)(?P=quote)(?P<tail>\s*(#.*)?)$"
)


class ComposeFileError(ValueError):
    """A compose file or a request that cannot be edited safely."""


@dataclass(frozen=True)
class ImageLine:
    service: str
    index: int
    value: str


def split_reference(reference: str) -> tuple[str, str | None]:
    """`host:5000/cyverse/atmosphere:release-v37-2` -> (`host:5000/cyverse/atmosphere`, tag)."""
    if "@" in reference:
        raise ComposeFileError(f"image {reference!r} is pinned by digest; set it by hand")
    name, sep, tag = reference.rpartition(":")
    if sep and "/" not in tag:
        return name, tag
    return reference, None


def image_lines(lines: list[str]) -> dict[str, ImageLine]:
    """The `image:` line of each service under the top-level `services:` key."""
    found: dict[str, ImageLine] = {}
    in_services = False
    service_indent: int | None = None
    key_indent: int | None = None
    service: str | None = None
    for index, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _KEY.match(line.rstrip("\r\n"))
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            in_services = bool(match and match["key"].strip("'\"") == "services")
            service_indent, service = None, None
            continue
        if not in_services:
            continue
        if service_indent is None:
            service_indent = indent
        if indent == service_indent and match:
            service, key_indent = match["key"].strip("'\""), None
            continue
        if key_indent is None:
            key_indent = indent
        image = _IMAGE.match(line.rstrip("\r\n"))
        if service and image and indent == key_indent and service not in found:
            found[service] = ImageLine(service, index, image["value"])
    return found


def read_images(text: str) -> dict[str, str]:
    return {name: line.value for name, line in image_lines(text.splitlines(True)).items()}


def _services(text: str) -> dict[str, object] | None:
    """The `services:` mapping of a compose file (or of what `config` prints), None without."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ComposeFileError(f"not valid YAML ({error})") from error
    declared = data.get("services") if isinstance(data, dict) else None
    return declared if isinstance(declared, dict) else None


def services(text: str) -> list[str]:
    """The service names a compose file declares."""
    return sorted(_services(text) or {})


def config_images(text: str) -> dict[str, str]:
    """service -> image, from what `config` prints: v1 and v2 normalise the file differently (v2
    adds `name:`, expands networks, quotes commands), the images per service are what counts."""
    declared = _services(text)
    if declared is None:
        raise ComposeFileError("no services")
    return {
        str(name): str(service["image"])
        for name, service in declared.items()
        if isinstance(service, dict) and service.get("image")
    }


def set_image_tags(text: str, tags: dict[str, str]) -> str:
    """The same text with the tag of each named service's image replaced."""
    lines = text.splitlines(True)
    found = image_lines(lines)
    for service, tag in tags.items():
        if service not in found:
            known = ", ".join(sorted(found)) or "none"
            raise ComposeFileError(
                f"service {service!r} has no image line in this compose file (services: {known})"
            )
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
            raise ComposeFileError(f"{tag!r} is not a valid image tag")
        line = lines[found[service].index]
        ending = line[len(line.rstrip("\r\n")) :]
        match = _IMAGE.match(line.rstrip("\r\n"))
        assert match is not None
        name, _ = split_reference(match["value"])
        quote = match["quote"]
        lines[found[service].index] = (
            f"{match['head']}{quote}{name}:{tag}{quote}{match['tail']}{ending}"
        )
    return "".join(lines)


def changed_lines(before: str, after: str) -> list[tuple[int, str, str]]:
    """(line number, old, new) of every line that differs; the texts must have as many lines."""
    old, new = before.splitlines(), after.splitlines()
    if len(old) != len(new):
        return [(0, f"{len(old)} lines", f"{len(new)} lines")]
    return [(n + 1, a, b) for n, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]


def _assignment(text: str) -> tuple[str, str]:
    service, sep, tag = text.partition("=")
    if not sep or not service or not tag:
        raise argparse.ArgumentTypeError(f"{text!r} is not SERVICE=TAG")
    return service, tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m atmo_release.compose_file",
        description="Set image tags in a compose file in place; every other byte stays.",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument(
        "--set",
        dest="tags",
        type=_assignment,
        action="append",
        required=True,
        metavar="SERVICE=TAG",
    )
    args = parser.parse_args(argv)
    try:
        text = args.file.read_bytes().decode()
        updated = set_image_tags(text, dict(args.tags))
    except (OSError, ComposeFileError) as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 2
    args.file.write_bytes(updated.encode())
    for number, old, new in changed_lines(text, updated):
        print(f"{args.file}:{number}: {old.strip()} -> {new.strip()}")
    return 0
