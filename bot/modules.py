"""The one registry of feature modules an admin can switch per group (``/modules``).

A module's key is what ``Router(module=...)``, the ``group_settings.disabled_modules`` column
and the ``/modules`` command use; its name is what members read, in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import Text


@dataclass(frozen=True, slots=True)
class Module:
    """A feature an admin can turn off in a group."""

    key: str
    name: Text


MODULES: tuple[Module, ...] = (
    Module("stories", Text("故事", "stories")),
    Module("skills", Text("技能交换", "skill swaps")),
    Module("volunteers", Text("志愿活动", "volunteering")),
    Module("digest", Text("周报", "weekly digest")),
)
KEYS: tuple[str, ...] = tuple(module.key for module in MODULES)
_BY_KEY = {module.key: module for module in MODULES}


def name(key: str) -> Text:
    """The module's display name (the key itself for a module this build does not know)."""
    module = _BY_KEY.get(key)
    return module.name if module is not None else Text(key, key)


def check(key: str | None) -> None:
    """Refuse a router declared with a module the registry does not list (a typo would
    otherwise make a module no admin can switch)."""
    if key is not None and key not in _BY_KEY:
        raise ValueError(f"unknown module {key!r}; add it to bot.modules.MODULES")
