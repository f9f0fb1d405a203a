"""The import statements of Python source, parsed once per source in a test run.

Why a module of its own: test_unit_import_cycles is imported twice (collected by pytest under
its bare name, and as tests.unit.test_unit_import_cycles by the tests reusing its graph); one
cache here serves both, and the three tests reading the same graph parse each file once.
"""

from __future__ import annotations

import ast
import functools


@functools.cache
def import_statements(source: str) -> tuple[ast.Import | ast.ImportFrom, ...]:
    """Every import statement of a module's source, at any depth: parsed once per source in a
    test run (three tests read the same graph)."""
    return tuple(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
    )
