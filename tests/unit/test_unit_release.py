"""Release names: the three accepted spellings and the refusals that state the expected form."""

import pytest

from atmo_release.release import EXPECTED_FORM, Release, ReleaseError


@pytest.mark.parametrize("text", ["37-3", "v37-3", "release-v37-3"])
def test_each_spelling_names_the_same_release(text: str) -> None:
    release = Release.parse(text)
    assert release == Release(37, 3)
    assert release.git_tag == "v37-3"
    assert release.image_tag == "release-v37-3"
    assert release.name == "v37-3"
    assert str(release) == "v37-3"


def test_all_spellings_are_equal_and_hash_alike() -> None:
    spellings = {Release.parse(t) for t in ("37-3", "v37-3", "release-v37-3")}
    assert spellings == {Release(37, 3)}


def test_releases_order_by_number_not_by_text() -> None:
    assert Release.parse("37-10") > Release.parse("37-3")
    assert Release.parse("38-0") > Release.parse("v37-10")


@pytest.mark.parametrize("text", ["37.3", "v37", "release-37-3x", "", "v37-3-1", "latest"])
def test_other_names_are_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        Release.parse(text)
    assert EXPECTED_FORM in str(caught.value)
    assert "37-3, v37-3 or release-v37-3" in str(caught.value)
    assert repr(text) in str(caught.value)


def test_release_error_is_a_value_error() -> None:
    assert issubclass(ReleaseError, ValueError)


def test_from_image_tag() -> None:
    assert Release.from_image_tag("latest") is None
    assert Release.from_image_tag("release-v37-3") == Release(37, 3)
    assert Release.from_image_tag("release-v36-6") == Release(36, 6)
