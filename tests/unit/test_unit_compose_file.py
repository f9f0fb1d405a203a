"""Compose file edits: only the tag of the named services' image lines changes, every other byte
stays; refusals name what is known. Runs on copies of the reference atmosphere-docker files."""

import subprocess
import sys
from pathlib import Path

import pytest

from atmo_release.compose_tags import (
    ComposeFileError,
    changed_lines,
    image_lines,
    read_images,
    set_image_tags,
    split_reference,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path("/work/shared/reference/atmosphere-docker")
PYTHON = ROOT / ".venv" / "bin" / "python"
ATMOSPHERE_V37_3 = "    image: 'cyverse/atmosphere:release-v37-3'\n"


def reference(name: str) -> str:
    path = REFERENCE / name
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path.read_text()


@pytest.fixture
def prod() -> str:
    return reference("docker-compose.prod.yml")


@pytest.fixture
def prod_2019() -> str:
    return reference("docker-compose.prod.2019-06-with-postgres.yml")


@pytest.fixture
def dev() -> str:
    return reference("docker-compose.yml")


def line_of(text: str, needle: str) -> int:
    """Index of the only line containing `needle`."""
    found = [n for n, line in enumerate(text.splitlines(True)) if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def assert_only_lines_changed(before: str, after: str, expected: dict[int, str]) -> None:
    """Line by line, endings included: lines in `expected` are replaced, all others identical."""
    old, new = before.splitlines(True), after.splitlines(True)
    assert len(old) == len(new)
    for index, (a, b) in enumerate(zip(old, new, strict=True)):
        assert b == expected.get(index, a), f"line {index + 1}: {a!r} -> {b!r}"
    assert after.endswith("\n") == before.endswith("\n")


# -- the reference files ----------------------------------------------------------------------


def test_read_images_of_the_prod_file(prod: str) -> None:
    assert read_images(prod) == {
        "atmosphere": "cyverse/atmosphere:release-v37-2",
        "troposphere": "cyverse/troposphere:release-v36-6",
    }


def test_read_images_of_the_2019_and_dev_files(prod_2019: str, dev: str) -> None:
    expected = {
        "postgres": "postgres:9.6",
        "atmosphere": "cyverse/atmosphere:latest",
        "troposphere": "cyverse/troposphere:latest",
    }
    assert read_images(prod_2019) == expected
    assert read_images(dev) == expected


def test_set_atmosphere_on_the_prod_file(prod: str) -> None:
    after = set_image_tags(prod, {"atmosphere": "release-v37-3"})
    index = line_of(prod, "cyverse/atmosphere:")
    assert_only_lines_changed(
        prod, after, {index: "    image: 'cyverse/atmosphere:release-v37-3'\n"}
    )
    assert read_images(after)["troposphere"] == "cyverse/troposphere:release-v36-6"


def test_the_two_apps_stay_independent(prod: str) -> None:
    one = set_image_tags(prod, {"atmosphere": "release-v37-3"})
    two = set_image_tags(one, {"troposphere": "release-v37-1"})
    assert read_images(one) == {
        "atmosphere": "cyverse/atmosphere:release-v37-3",
        "troposphere": "cyverse/troposphere:release-v36-6",
    }
    assert read_images(two) == {
        "atmosphere": "cyverse/atmosphere:release-v37-3",
        "troposphere": "cyverse/troposphere:release-v37-1",
    }
    both = set_image_tags(prod, {"atmosphere": "release-v37-3", "troposphere": "release-v37-1"})
    assert both == two
    assert_only_lines_changed(
        prod,
        both,
        {
            line_of(prod, "cyverse/atmosphere:"): "    image: 'cyverse/atmosphere:release-v37-3'\n",
            line_of(
                prod, "cyverse/troposphere:"
            ): "    image: 'cyverse/troposphere:release-v37-1'\n",
        },
    )


def test_setting_the_same_tag_changes_nothing(prod: str) -> None:
    assert set_image_tags(prod, {"atmosphere": "release-v37-2"}) == prod
    assert set_image_tags(prod, {}) == prod


def test_set_on_the_2019_file_leaves_postgres_alone(prod_2019: str) -> None:
    after = set_image_tags(prod_2019, {"atmosphere": "release-v37-3"})
    assert_only_lines_changed(
        prod_2019,
        after,
        {line_of(prod_2019, "cyverse/atmosphere:"): ATMOSPHERE_V37_3},
    )
    assert read_images(after)["postgres"] == "postgres:9.6"


def test_set_on_the_dev_file_keeps_inline_comments(dev: str) -> None:
    after = set_image_tags(dev, {"troposphere": "release-v37-3", "postgres": "15"})
    assert_only_lines_changed(
        dev,
        after,
        {
            line_of(
                dev, "cyverse/troposphere:"
            ): "    image: 'cyverse/troposphere:release-v37-3'\n",
            line_of(dev, "postgres:9.6"): "    image: 'postgres:15'\n",
        },
    )
    assert after.count("command: '' # put your user id here if running locally\n") == 2


def test_crlf_line_endings_are_kept(prod: str) -> None:
    crlf = prod.replace("\n", "\r\n")
    after = set_image_tags(crlf, {"atmosphere": "release-v37-3"})
    assert_only_lines_changed(
        crlf,
        after,
        {line_of(crlf, "cyverse/atmosphere:"): "    image: 'cyverse/atmosphere:release-v37-3'\r\n"},
    )
    assert after.count("\r\n") == crlf.count("\r\n")
    assert read_images(crlf) == read_images(prod)


def test_unknown_service_names_the_known_ones(prod: str) -> None:
    with pytest.raises(ComposeFileError) as caught:
        set_image_tags(prod, {"postgres": "release-v37-3"})
    message = str(caught.value)
    assert "'postgres'" in message
    assert "atmosphere, troposphere" in message


def test_unknown_service_with_a_known_one_changes_nothing(prod: str) -> None:
    with pytest.raises(ComposeFileError):
        set_image_tags(prod, {"atmosphere": "release-v37-3", "celery": "x"})


@pytest.mark.parametrize(
    "tag", ["", "release v37-3", "-bad", ".bad", "a/b", "v37:3", "x@sha256", "x" * 129, "tag\n"]
)
def test_an_invalid_tag_is_refused(prod: str, tag: str) -> None:
    with pytest.raises(ComposeFileError) as caught:
        set_image_tags(prod, {"atmosphere": tag})
    assert "not a valid image tag" in str(caught.value)


def test_a_long_valid_tag_is_accepted(prod: str) -> None:
    tag = "r" * 128
    assert read_images(set_image_tags(prod, {"atmosphere": tag}))["atmosphere"].endswith(":" + tag)


# -- image line styles ------------------------------------------------------------------------

TEMPLATE = """\
---
version: '3'

# the release-day file
services:

  atmosphere:
    # image: 'cyverse/atmosphere:release-v36-1'
{image}
    volumes:
      - '../atmosphere-docker-secrets:/opt/dev/atmosphere-docker-secrets'   \n\
    network_mode: 'host'


  troposphere:
    image: "cyverse/troposphere:release-v36-6"
    depends_on:
      - 'atmosphere'
"""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "    image: 'cyverse/atmosphere:release-v37-2'",
            "    image: 'cyverse/atmosphere:release-v37-3'",
        ),
        (
            '    image: "cyverse/atmosphere:release-v37-2"',
            '    image: "cyverse/atmosphere:release-v37-3"',
        ),
        (
            "    image: cyverse/atmosphere:release-v37-2",
            "    image: cyverse/atmosphere:release-v37-3",
        ),
        (
            "    image: cyverse/atmosphere:release-v37-2   ",
            "    image: cyverse/atmosphere:release-v37-3   ",
        ),
        (
            "    image:   'cyverse/atmosphere:release-v37-2'",
            "    image:   'cyverse/atmosphere:release-v37-3'",
        ),
        (
            "    image: cyverse/atmosphere:release-v37-2  # pinned until the release",
            "    image: cyverse/atmosphere:release-v37-3  # pinned until the release",
        ),
        (
            "    image: 'cyverse/atmosphere:release-v37-2' # pinned",
            "    image: 'cyverse/atmosphere:release-v37-3' # pinned",
        ),
        (
            "    image: localhost:5000/cyverse/atmosphere:release-v37-2",
            "    image: localhost:5000/cyverse/atmosphere:release-v37-3",
        ),
        (
            "    image: 'localhost:5000/cyverse/atmosphere:release-v37-2'",
            "    image: 'localhost:5000/cyverse/atmosphere:release-v37-3'",
        ),
        ("    image: cyverse/atmosphere", "    image: cyverse/atmosphere:release-v37-3"),
        (
            "    image: 'localhost:5000/cyverse/atmosphere'",
            "    image: 'localhost:5000/cyverse/atmosphere:release-v37-3'",
        ),
        ("    image: cyverse/atmosphere:latest", "    image: cyverse/atmosphere:release-v37-3"),
    ],
)
@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_image_line_styles(line: str, expected: str, ending: str) -> None:
    before = TEMPLATE.format(image=line).replace("\n", ending)
    after = set_image_tags(before, {"atmosphere": "release-v37-3"})
    assert before.splitlines()[8] == line
    assert_only_lines_changed(before, after, {8: expected + ending})
    assert changed_lines(before, after) == [(9, line, expected)]


def test_image_line_styles_read_back() -> None:
    text = TEMPLATE.format(image="    image: localhost:5000/cyverse/atmosphere:release-v37-2 # x")
    assert read_images(text) == {
        "atmosphere": "localhost:5000/cyverse/atmosphere:release-v37-2",
        "troposphere": "cyverse/troposphere:release-v36-6",
    }


def test_a_commented_out_image_line_is_left_alone() -> None:
    text = TEMPLATE.format(image="    image: cyverse/atmosphere:release-v37-2")
    after = set_image_tags(text, {"atmosphere": "release-v37-3"})
    assert "    # image: 'cyverse/atmosphere:release-v36-1'\n" in after
    assert image_lines(text.splitlines(True))["atmosphere"].index == 8


def test_a_digest_pinned_image_is_refused() -> None:
    digest = "sha256:" + "0" * 64
    text = TEMPLATE.format(image=f"    image: cyverse/atmosphere@{digest}")
    assert read_images(text)["atmosphere"] == f"cyverse/atmosphere@{digest}"
    with pytest.raises(ComposeFileError) as caught:
        set_image_tags(text, {"atmosphere": "release-v37-3"})
    assert "digest" in str(caught.value)


def test_images_outside_services_are_ignored() -> None:
    text = (
        "x-defaults:\n  image: cyverse/other:1\n"
        "services:\n  atmosphere:\n    image: cyverse/atmosphere:release-v37-2\n"
        "volumes:\n  data:\n    image: nope\n"
    )
    assert read_images(text) == {"atmosphere": "cyverse/atmosphere:release-v37-2"}
    after = set_image_tags(text, {"atmosphere": "release-v37-3"})
    assert changed_lines(text, after) == [
        (
            5,
            "    image: cyverse/atmosphere:release-v37-2",
            "    image: cyverse/atmosphere:release-v37-3",
        )
    ]


def test_a_nested_image_key_is_not_the_service_image() -> None:
    text = (
        "services:\n  atmosphere:\n    environment:\n      image: not-an-image\n"
        "    image: cyverse/atmosphere:release-v37-2\n"
    )
    assert read_images(text) == {"atmosphere": "cyverse/atmosphere:release-v37-2"}


# -- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference_", "expected"),
    [
        ("cyverse/atmosphere:release-v37-2", ("cyverse/atmosphere", "release-v37-2")),
        ("cyverse/atmosphere", ("cyverse/atmosphere", None)),
        ("localhost:5000/cyverse/atmosphere", ("localhost:5000/cyverse/atmosphere", None)),
        (
            "localhost:5000/cyverse/atmosphere:release-v37-2",
            ("localhost:5000/cyverse/atmosphere", "release-v37-2"),
        ),
        ("postgres:9.6", ("postgres", "9.6")),
    ],
)
def test_split_reference(reference_: str, expected: tuple[str, str | None]) -> None:
    assert split_reference(reference_) == expected


def test_split_reference_refuses_a_digest() -> None:
    with pytest.raises(ComposeFileError):
        split_reference("cyverse/atmosphere:release-v37-2@sha256:" + "a" * 64)


def test_changed_lines() -> None:
    assert changed_lines("a\nb\nc\n", "a\nB\nc\n") == [(2, "b", "B")]
    assert changed_lines("a\nb\n", "a\nb\n") == []
    assert changed_lines("a\r\nb\r\n", "a\r\nc\r\n") == [(2, "b", "c")]
    assert changed_lines("a\nb\n", "a\n") == [(0, "2 lines", "1 lines")]


# -- the command line -------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    python = PYTHON if PYTHON.exists() else Path(sys.executable)
    return subprocess.run(
        [str(python), "-m", "atmo_release.compose_file", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_cli_rewrites_in_place_and_prints_the_changed_line(prod: str, tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.prod.yml"
    path.write_bytes(prod.encode())
    done = cli(str(path), "--set", "atmosphere=release-v37-3")
    assert done.returncode == 0, done.stderr
    number = line_of(prod, "cyverse/atmosphere:") + 1
    assert done.stdout == (
        f"{path}:{number}: image: 'cyverse/atmosphere:release-v37-2' -> "
        "image: 'cyverse/atmosphere:release-v37-3'\n"
    )
    assert done.stderr == ""
    assert path.read_bytes() == set_image_tags(prod, {"atmosphere": "release-v37-3"}).encode()


def test_cli_sets_both_apps(prod: str, tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.prod.yml"
    path.write_bytes(prod.encode())
    done = cli(str(path), "--set", "atmosphere=release-v37-3", "--set", "troposphere=release-v37-3")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 2
    assert set(read_images(path.read_text()).values()) == {
        "cyverse/atmosphere:release-v37-3",
        "cyverse/troposphere:release-v37-3",
    }


def test_cli_unknown_service_fails_and_leaves_the_file(prod: str, tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.prod.yml"
    path.write_bytes(prod.encode())
    done = cli(str(path), "--set", "postgres=x")
    assert done.returncode != 0
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "postgres" in done.stderr and "atmosphere, troposphere" in done.stderr
    assert path.read_bytes() == prod.encode()


@pytest.mark.parametrize("assignment", ["bad", "=x", "atmosphere="])
def test_cli_refuses_a_malformed_assignment(prod: str, tmp_path: Path, assignment: str) -> None:
    path = tmp_path / "docker-compose.prod.yml"
    path.write_bytes(prod.encode())
    done = cli(str(path), "--set", assignment)
    assert done.returncode != 0
    assert "SERVICE=TAG" in done.stderr
    assert path.read_bytes() == prod.encode()


def test_cli_missing_file(tmp_path: Path) -> None:
    done = cli(str(tmp_path / "nope.yml"), "--set", "atmosphere=release-v37-3")
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1


def test_cli_keeps_crlf_line_endings(prod: str, tmp_path: Path) -> None:
    crlf = prod.replace("\n", "\r\n")
    path = tmp_path / "docker-compose.prod.yml"
    path.write_bytes(crlf.encode())
    done = cli(str(path), "--set", "atmosphere=release-v37-3")
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == set_image_tags(crlf, {"atmosphere": "release-v37-3"}).encode()
