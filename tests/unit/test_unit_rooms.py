"""The library's rooms import only the rooms their docstrings allow, so a room's rule is
checked, not only written: a resource reaching into the deployment, or the record into a
resource, fails here, named."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_unit_import_cycles import ROOT, import_graph

TOP = "top"
COMMANDS = {"attach", "changelog", "compose_file"}  # the commands records print
ALLOWED = {
    TOP: set(),
    "commands": {TOP},
    "target": {TOP, "commands"},
    "data": {TOP, "commands", "target"},
    "github": {TOP},
    "web": {TOP},
    "record": {TOP, "target", "github"},
    "resources": {TOP, "commands", "target", "data", "github", "web", "record"},
    "release_day": {TOP, "commands", "target", "data", "github", "web", "record", "resources"},
    "weeks_before": {TOP, "commands", "target", "github", "record", "resources"},
}


def room_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and (ROOT / "atmo_release" / parts[1]).is_dir()):
        return parts[1]
    return TOP


def crossings(root: Path) -> list[str]:
    """Each import from one room to a room it may not use, as `a -> b (room -> room)`."""
    wrong = []
    for module, imported in sorted(import_graph(root, ("atmo_release",)).items()):
        if module.split(".")[-1] in COMMANDS and room_of(module) == TOP:
            continue
        for other in sorted(imported):
            here, there = room_of(module), room_of(other)
            if here != there and there not in ALLOWED[here]:
                wrong.append(f"{module} -> {other} ({here} -> {there})")
    return wrong


def test_every_room_is_named_with_its_rule() -> None:
    rooms = {p.parent.name for p in (ROOT / "atmo_release").glob("*/__init__.py")}
    assert rooms == set(ALLOWED) - {TOP}
    for room in rooms:
        assert "Rule:" in (ROOT / "atmo_release" / room / "__init__.py").read_text(), room


def test_no_room_imports_a_room_it_may_not() -> None:
    assert crossings(ROOT) == []


def test_the_top_holds_only_what_every_room_shares() -> None:
    top = {p.stem for p in (ROOT / "atmo_release").glob("*.py")} - {"__init__"}
    assert len(top) <= 12, sorted(top)
