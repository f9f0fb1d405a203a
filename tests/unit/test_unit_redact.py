"""The redactor masks every known secret value, the longest first, wherever text leaves."""

from atmo_release.redact import MASK, Redactor


def test_every_value_is_masked() -> None:
    redact = Redactor(["hunter2pw", "s3cr3t-key"])
    assert redact("user:hunter2pw key=s3cr3t-key again hunter2pw") == (
        f"user:{MASK} key={MASK} again {MASK}"
    )


def test_longest_first_when_one_secret_contains_another() -> None:
    for order in (["abcd", "abcdefgh"], ["abcdefgh", "abcd"]):
        redact = Redactor(order)
        assert redact("x abcdefgh y abcd z") == f"x {MASK} y {MASK} z"
        assert "efgh" not in redact("abcdefgh")


def test_values_shorter_than_four_characters_are_ignored() -> None:
    redact = Redactor(["abc", "", "   ", "ab"])
    assert len(redact) == 0
    assert redact("abc ab") == "abc ab"
    assert len(Redactor(["abcd"])) == 1
    assert Redactor(["abcd"])("abcd") == MASK


def test_values_are_stripped_before_use() -> None:
    redact = Redactor(["  padded-secret\n"])
    assert redact("the padded-secret here") == f"the {MASK} here"


def test_values_added_later_are_masked() -> None:
    redact = Redactor()
    assert redact("late-secret") == "late-secret"
    redact.add(["late-secret"])
    assert redact("late-secret") == MASK
    redact.add(["late-secret"])
    assert len(redact) == 1


def test_argv_masks_each_item() -> None:
    redact = Redactor(["hunter2pw"])
    argv = ["psql", "-c", "ALTER USER a PASSWORD 'hunter2pw'", "hunter2pw", "plain"]
    assert redact.argv(argv) == ["psql", "-c", f"ALTER USER a PASSWORD '{MASK}'", MASK, "plain"]
    assert redact.argv(iter(("hunter2pw",))) == [MASK]
    assert argv[3] == "hunter2pw"  # the input is not modified


def test_two_redactors_joined_mask_the_longest_secret_first() -> None:
    joined = Redactor(["abcd"]) | Redactor(["abcdefgh"])
    assert joined("x abcdefgh y abcd z") == f"x {MASK} y {MASK} z"
    assert len(joined) == 2
