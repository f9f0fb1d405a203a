"""Gherkin verbs for deployment steps: a `then` is a check, listed but not run in a plan."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest_bdd
from pytest_bdd import parsers, when

__all__ = ["parsers", "then", "when"]


def then(name: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def check(*args: Any, **fixtures: Any) -> Any:
            deployment = fixtures.get("deployment")
            if deployment is not None and deployment.planning:
                return None
            return func(*args, **fixtures)

        return pytest_bdd.then(name, stacklevel=2, **kwargs)(check)

    return decorate
