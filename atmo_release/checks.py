"""The failure every check raises: a sentence saying what was expected and what was found."""


class CheckFailed(AssertionError):
    """A check that read the world and found it not as the runbook requires."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)
