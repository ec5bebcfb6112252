"""The command table: every command and button of a router tree, indexed by folded name, and
the resolution of a member's text into a parsed command (or why it is not one)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot import safety
from bot.args import ArgError, CommandSpec, T, parse_args
from bot.errors import UserError
from bot.i18n import Lang, guess_lang, has_cjk
from bot.router import COMMAND_PREFIXES, MAX_TEXT, ActionRoute, Route, Router


def _fold(token: str) -> str:
    """Compare command names case-insensitively and across full/half width."""
    return unicodedata.normalize("NFKC", token).casefold()


@dataclass(slots=True)
class Parsed:
    """A matched command with its converted arguments and the member's language."""

    route: Route
    kwargs: dict[str, Any]
    lang: Lang
    used_name: str


@dataclass(slots=True)
class NotACommand:
    """Plain text (no leading slash)."""

    text: str
    lang: Lang


@dataclass(slots=True)
class UnknownCommand:
    """A slash word that names no command."""

    word: str
    lang: Lang


Resolution = Parsed | NotACommand | UnknownCommand

# Commands people type without the slash too ("帮助", "help 故事"): only words nobody says to
# the bot meaning anything else.
BARE = ("help",)


class CommandTable:
    """All commands of a router tree, indexed by folded name (one and two words)."""

    def __init__(self, root: Router) -> None:
        self.root = root
        self.routes: list[Route] = list(root.all_routes())
        self._index: dict[tuple[str, ...], tuple[Route, str]] = {}
        for route in self.routes:
            for name in (route.spec.name, *route.spec.aliases):
                key = tuple(_fold(part) for part in name.split())
                if key in self._index:
                    raise ValueError(f"command /{name} registered twice")
                self._index[key] = (route, name)
        self.actions: dict[tuple[str, str | None], ActionRoute] = {}
        for action in root.all_actions():
            verb_kind = (action.verb, action.kind)
            if verb_kind in self.actions:
                raise ValueError(f"card action {action.verb!r} ({action.kind}) registered twice")
            self.actions[verb_kind] = action
        self.privacy = sorted(root.all_privacy(), key=lambda section: section.order)
        self._bare = {
            _fold(name)
            for route in self.routes
            if route.spec.name in BARE
            for name in (route.spec.name, *route.spec.aliases)
        }

    def family(self, spec: CommandSpec) -> list[CommandSpec]:
        """The commands sharing ``spec``'s first word (``/审核``, ``/审核 开``, ``/审核 关``),
        members' commands only unless ``spec`` is an admin's, hidden ones left out."""
        first = {_fold(n.split()[0]) for n in (spec.name, *spec.aliases)}
        return [
            route.spec
            for route in self.routes
            if route.spec is not spec
            and not route.spec.hidden
            and (spec.admin or not route.spec.admin)
            and any(_fold(n.split()[0]) in first for n in (route.spec.name, *route.spec.aliases))
        ]

    def action(self, verb: str, kind: str) -> ActionRoute | None:
        """The handler for a button: one for this card kind, else one for any kind."""
        return self.actions.get((verb, kind)) or self.actions.get((verb, None))

    def find(self, name: str) -> Route | None:
        """The route for a command name or alias (with or without the slash)."""
        key = tuple(_fold(p) for p in name.lstrip("/／").split())
        hit = self._index.get(key)
        return hit[0] if hit else None

    def resolve(self, text: str, today: date | None = None) -> Resolution:
        """Turn a member's text into a parsed command, or say why it is not one.

        ``today`` is the bot's local date, for arguments such as ``明天 9点``.

        Raises:
            UserError: a known command with arguments that do not fit; the message names
                the right form.
        """
        text = safety.clean(text).strip()
        lang = guess_lang(text)
        if len(text) > MAX_TEXT:
            raise UserError(T.message_too_long, limit=MAX_TEXT)
        if not text.startswith(COMMAND_PREFIXES):
            first = text.split(maxsplit=1)[0] if text else ""
            if _fold(first) not in self._bare:
                return NotACommand(text, lang)
            text = "/" + text
        body = text[1:].lstrip()
        words = body.split(maxsplit=2)
        if not words:
            return UnknownCommand("/", lang)
        for size in (2, 1):
            if len(words) < size:
                continue
            key = tuple(_fold(w) for w in words[:size])
            hit = self._index.get(key)
            if hit is None:
                continue
            route, used = hit
            lang = "zh" if has_cjk(used) else "en"
            parts = body.split(maxsplit=size)
            rest = parts[size] if len(parts) > size else ""
            try:
                kwargs = parse_args(route.spec, rest.strip(), lang, today)
            except ArgError as exc:
                if size == 2:  # the subcommand was named: its own usage is the answer
                    raise
                raise exc.with_family(self.family(route.spec)) from None
            return Parsed(route, kwargs, lang, used)
        return UnknownCommand("/" + words[0][:40], lang)
