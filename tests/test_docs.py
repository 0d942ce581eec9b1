"""The docs are tested (as Datasette does): a domain module, a live-patch op,
a CLI command or a setting that the docs do not name fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kyoso.cli import build_parser
from kyoso.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def domain_modules() -> list[str]:
    services = ROOT / "kyoso" / "services"
    names = [p.stem for p in services.glob("*.py") if p.stem != "__init__"]
    names += [p.name for p in services.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    return sorted(names)


def live_ops() -> list[str]:
    source = (ROOT / "assets" / "kyoso_live.js").read_text(encoding="utf-8")
    return sorted(set(re.findall(r'case "(\w+)":', source)))


def commands() -> list[str]:
    """Every command of ``kyoso``, as typed: "db upgrade", "user add", "seed"."""
    found = []

    def walk(parser, prefix: list[str]) -> None:  # type: ignore[no-untyped-def]
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs:
            found.append(" ".join(prefix))
            return
        for name, sub in subs[0].choices.items():
            walk(sub, [*prefix, name])

    walk(build_parser(), [])
    return sorted(found)


def settings() -> list[str]:
    return sorted(f"KYOSO_{name.upper()}" for name in Settings.model_fields)


@pytest.mark.parametrize("module", domain_modules())
def test_every_domain_module_is_in_architecture(module: str) -> None:
    assert f"`{module}`" in ARCHITECTURE, f"ARCHITECTURE.md does not name services/{module}"


@pytest.mark.parametrize("op", live_ops())
def test_every_live_patch_op_is_in_architecture(op: str) -> None:
    assert f"`{op}`" in ARCHITECTURE, f"ARCHITECTURE.md does not describe the live op {op!r}"


@pytest.mark.parametrize("command", commands())
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"kyoso {command}" in README, f"README.md does not show `kyoso {command}`"


@pytest.mark.parametrize("setting", settings())
def test_every_setting_is_in_the_readme(setting: str) -> None:
    assert f"`{setting}`" in README, f"README.md's settings table lacks {setting}"


def test_the_lists_are_read_from_the_code() -> None:
    """The checks above look at something: they would catch a missing name."""
    assert {"messages", "polls", "poll_results", "briefing_room", "search"} <= set(domain_modules())
    assert {"upsert", "patch", "remove", "set"} <= set(live_ops())
    assert {"db upgrade", "user add", "seed"} <= set(commands())
    assert "KYOSO_DATABASE_URL" in settings()
