"""Routers with declarative commands: parsing, usage, help and the admin check live here.

A command is data (``CommandSpec``): its English name, Chinese aliases, arguments, help text
and whether it is admin-only. Handlers receive the parsed arguments as keyword arguments.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from bot import safety
from bot.errors import UserError
from bot.i18n import Lang, Text, guess_lang, has_cjk

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.context import Context
    from bot.replies import CardResponse

ArgKind = Literal["str", "int", "float", "datetime", "choice", "rest", "many"]
Handler = Callable[..., Awaitable[Any]]
ActionHandler = Callable[["Context"], Awaitable["CardResponse"]]
BatchActionHandler = Callable[
    [Sequence["Context"]], Awaitable[Sequence["CardResponse | UserError"]]
]

MODULES = ("stories", "skills", "volunteers", "digest")
COMMAND_PREFIXES = ("/", "／")
PIPES = re.compile(r"[|｜]")
MAX_TEXT = 10_000  # characters of a member's message the bot reads at all


class T:
    """Texts of the router itself."""

    usage = Text("用法：{usage}", "Usage: {usage}")
    missing = Text("缺少「{label}」。", "Missing {label}.")
    too_long = Text(
        "「{label}」最多 {limit} 个字符，现在是 {length} 个。",
        "{label} can be at most {limit} characters; it has {length}.",
    )
    not_int = Text(
        "「{label}」应为整数，收到「{value}」。", "{label} must be a whole number, got '{value}'."
    )
    not_number = Text(
        "「{label}」应为数字，收到「{value}」。", "{label} must be a number, got '{value}'."
    )
    out_of_range = Text(
        "「{label}」应在 {low} 到 {high} 之间。", "{label} must be between {low} and {high}."
    )
    too_small = Text("「{label}」应不小于 {low}。", "{label} must be at least {low}.")
    too_large = Text("「{label}」应不大于 {high}。", "{label} must be at most {high}.")
    bad_datetime = Text(
        "「{label}」的格式应为 YYYY-MM-DD HH:MM，收到「{value}」。",
        "{label} must look like YYYY-MM-DD HH:MM, got '{value}'.",
    )
    bad_choice = Text("「{label}」只能是 {choices}。", "{label} must be one of {choices}.")
    too_many = Text("多余的内容：「{extra}」。", "Unexpected extra text: '{extra}'.")
    message_too_long = Text(
        "消息太长了（最多 {limit} 个字符）。",
        "That message is too long (at most {limit} characters).",
    )


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument of a command."""

    name: str
    label: Text
    kind: ArgKind = "str"
    optional: bool = False
    max_len: int | None = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def placeholder(self, lang: Lang) -> str:
        """``<label>`` or ``[label]`` for usage lines."""
        label = self.label.render(lang)
        if self.kind == "choice" and self.choices:
            label = "|".join(self.choices)
        if self.kind == "many":
            label += "…"
        return f"[{label}]" if self.optional else f"<{label}>"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command as data; ``name`` and aliases may have two words (``event new``)."""

    name: str
    help: Text
    aliases: tuple[str, ...] = ()
    args: tuple[Arg, ...] = ()
    style: Literal["words", "pipe"] = "words"
    admin: bool = False
    module: str | None = None
    hidden: bool = False
    acts: bool = False  # submits, likes, signs up or proposes: refused to banned members
    # Works on one group's data: sent one to one, the bot first settles which group.
    needs_group: bool = True

    def usage(self, lang: Lang) -> str:
        """The usage line, e.g. ``/story <title> | <body>``."""
        name = self.name
        if lang == "zh":
            name = next((a for a in self.aliases if has_cjk(a)), self.name)
        sep = " | " if self.style == "pipe" else " "
        args = sep.join(a.placeholder(lang) for a in self.args)
        return f"/{name} {args}".rstrip()


@dataclass(slots=True)
class Route:
    """A registered command: its spec and its handler."""

    spec: CommandSpec
    handler: Handler


@dataclass(slots=True)
class ActionRoute:
    """A registered card-button verb (for one card kind, or any)."""

    verb: str
    handler: ActionHandler | None
    admin: bool = False
    module: str | None = None
    acts: bool = False
    kind: str | None = None
    batch: BatchActionHandler | None = None


@dataclass(frozen=True, slots=True)
class PrivacySection:
    """Something a feature stores about a member: shown by /mydata, erased by /forget.

    ``collect`` returns (how many, a few recent items as plain text); ``erase`` returns
    how many it erased. Both get the context, the conversation and the member's staff id.
    """

    key: str
    title: Text
    collect: Callable[[Context, str, str], Awaitable[tuple[int, list[str]]]]
    erase: Callable[[Context, str, str], Awaitable[int]]
    order: int = 50


@dataclass(slots=True)
class JobRoute:
    """A repeating job a feature declares; ``every`` reads its interval from the settings."""

    id: str
    callback: Callable[[Context], Awaitable[None]]
    every: Callable[[Settings], float]


@dataclass(slots=True)
class Router:
    """A feature's commands and card actions; routers nest, first match wins."""

    name: str
    module: str | None = None
    routes: list[Route] = field(default_factory=list)
    actions: list[ActionRoute] = field(default_factory=list)
    children: list[Router] = field(default_factory=list)
    jobs: list[JobRoute] = field(default_factory=list)
    privacy: list[PrivacySection] = field(default_factory=list)

    def command(
        self,
        name: str,
        *,
        help: Text,
        aliases: Sequence[str] = (),
        args: Sequence[Arg] = (),
        style: Literal["words", "pipe"] = "words",
        admin: bool = False,
        hidden: bool = False,
        acts: bool = False,
        needs_group: bool = True,
    ) -> Callable[[Handler], Handler]:
        """Register ``handler`` for ``/name`` and its aliases.

        ``admin`` commands are refused to others; ``acts`` commands (submitting, liking,
        signing up, proposing) are refused to members banned in the group. A command that
        ``needs_group`` (most do), sent one to one, runs in the group the member names or
        the bot can tell (see ``bot.groups``); the others run in the chat itself.
        """
        spec = CommandSpec(
            name=name,
            help=help,
            aliases=tuple(aliases),
            args=tuple(args),
            style=style,
            admin=admin,
            module=self.module,
            hidden=hidden,
            acts=acts,
            needs_group=needs_group,
        )

        def register(handler: Handler) -> Handler:
            _check_signature(spec, handler)
            self.routes.append(Route(spec, handler))
            return handler

        return register

    def action(
        self, *verbs: str, admin: bool = False, acts: bool = False, kind: str | None = None
    ) -> Callable[[ActionHandler], ActionHandler]:
        """Register ``handler`` for card buttons whose ``params.action`` is one of ``verbs``
        (on cards of ``kind`` only, when given)."""

        def register(handler: ActionHandler) -> ActionHandler:
            self._add_actions(verbs, handler, None, admin=admin, acts=acts, kind=kind)
            return handler

        return register

    def batch_action(
        self, *verbs: str, admin: bool = False, acts: bool = False, kind: str | None = None
    ) -> Callable[[BatchActionHandler], BatchActionHandler]:
        """Register ``handler`` for clicks on ``verbs`` that arrive together.

        A storm of clicks on one button is handled as a set: the handler gets the contexts of
        consecutive clicks in arrival order (one, when a click comes alone) and returns one
        answer for each, a ``UserError`` refusing that click alone (having changed nothing for
        it). Raising refuses the whole run, and an unexpected error makes the dispatcher retry
        the clicks one by one.
        """

        def register(handler: BatchActionHandler) -> BatchActionHandler:
            self._add_actions(verbs, None, handler, admin=admin, acts=acts, kind=kind)
            return handler

        return register

    def _add_actions(
        self,
        verbs: Sequence[str],
        handler: ActionHandler | None,
        batch: BatchActionHandler | None,
        *,
        admin: bool,
        acts: bool,
        kind: str | None,
    ) -> None:
        for verb in verbs:
            self.actions.append(
                ActionRoute(
                    verb,
                    handler,
                    admin=admin,
                    module=self.module,
                    acts=acts,
                    kind=kind,
                    batch=batch,
                )
            )

    def privacy_section(self, section: PrivacySection) -> None:
        """Declare what this feature stores about members (for /mydata and /forget)."""
        self.privacy.append(section)

    def all_privacy(self) -> Iterable[PrivacySection]:
        """Every privacy section of the tree."""
        yield from self.privacy
        for child in self.children:
            yield from child.all_privacy()

    def job(
        self, job_id: str, *, every: Callable[[Settings], float]
    ) -> Callable[[Callable[[Context], Awaitable[None]]], Callable[[Context], Awaitable[None]]]:
        """Register a repeating job (run with a ``Context`` in its own unit of work)."""

        def register(
            callback: Callable[[Context], Awaitable[None]],
        ) -> Callable[[Context], Awaitable[None]]:
            self.jobs.append(JobRoute(job_id, callback, every))
            return callback

        return register

    def all_jobs(self) -> Iterable[JobRoute]:
        """This router's jobs, then its children's."""
        yield from self.jobs
        for child in self.children:
            yield from child.all_jobs()

    def include_router(self, router: Router) -> None:
        """Nest another router under this one."""
        self.children.append(router)

    def all_routes(self) -> Iterable[Route]:
        """This router's routes, then its children's, depth first."""
        yield from self.routes
        for child in self.children:
            yield from child.all_routes()

    def all_actions(self) -> Iterable[ActionRoute]:
        """This router's card actions, then its children's."""
        yield from self.actions
        for child in self.children:
            yield from child.all_actions()


def _check_signature(spec: CommandSpec, handler: Handler) -> None:
    params = list(inspect.signature(handler).parameters)
    expected = ["ctx", *(a.name for a in spec.args)]
    if params != expected:
        raise TypeError(
            f"handler {handler.__qualname__} for /{spec.name} must take {expected}, takes {params}"
        )


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

    def action(self, verb: str, kind: str) -> ActionRoute | None:
        """The handler for a button: one for this card kind, else one for any kind."""
        return self.actions.get((verb, kind)) or self.actions.get((verb, None))

    def find(self, name: str) -> Route | None:
        """The route for a command name or alias (with or without the slash)."""
        key = tuple(_fold(p) for p in name.lstrip("/／").split())
        hit = self._index.get(key)
        return hit[0] if hit else None

    def resolve(self, text: str) -> Resolution:
        """Turn a member's text into a parsed command, or say why it is not one.

        Raises:
            UserError: a known command with arguments that do not fit; the message names
                the right form.
        """
        text = safety.clean(text).strip()
        lang = guess_lang(text)
        if len(text) > MAX_TEXT:
            raise UserError(T.message_too_long, limit=MAX_TEXT)
        if not text.startswith(COMMAND_PREFIXES):
            return NotACommand(text, lang)
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
            kwargs = parse_args(route.spec, rest.strip(), lang)
            return Parsed(route, kwargs, lang, used)
        return UnknownCommand("/" + words[0][:40], lang)


def _usage_error(spec: CommandSpec, lang: Lang, text: Text, **params: object) -> UserError:
    message = text.render(lang, **params) + "\n" + T.usage.render(lang, usage=spec.usage(lang))
    return UserError(Text(message, message))


def parse_args(spec: CommandSpec, rest: str, lang: Lang) -> dict[str, Any]:
    """Split and convert the argument text of ``spec``; raise a ``UserError`` naming the form."""
    args = spec.args
    raw: list[str | list[str] | None]
    if not args:
        if rest:
            raise _usage_error(spec, lang, T.too_many, extra=safety.plain(rest[:40]))
        return {}
    if spec.style == "pipe":
        parts = [p.strip() for p in PIPES.split(rest, maxsplit=len(args) - 1)] if rest else []
        raw = [parts[i] if i < len(parts) and parts[i] else None for i in range(len(args))]
    else:
        raw = []
        remaining = rest
        for arg in args:
            remaining = remaining.strip()
            if not remaining:
                raw.append(None)
            elif arg.kind == "rest":
                raw.append(remaining)
                remaining = ""
            elif arg.kind == "many":
                raw.append(remaining.split())
                remaining = ""
            else:
                head, *tail = remaining.split(maxsplit=1)
                remaining = tail[0] if tail else ""
                raw.append(head)
        if remaining.strip():
            raise _usage_error(spec, lang, T.too_many, extra=safety.plain(remaining.strip()[:40]))
    out: dict[str, Any] = {}
    for arg, value in zip(args, raw, strict=True):
        if value is None or value == []:
            if not arg.optional:
                raise _usage_error(spec, lang, T.missing, label=arg.label.render(lang))
            out[arg.name] = [] if arg.kind == "many" else None
            continue
        out[arg.name] = _convert(spec, arg, value, lang)
    return out


def _convert(spec: CommandSpec, arg: Arg, value: str | list[str], lang: Lang) -> Any:
    label = arg.label.render(lang)
    if isinstance(value, list):
        return value
    if arg.max_len is not None and len(value) > arg.max_len:
        raise _usage_error(
            spec, lang, T.too_long, label=label, limit=arg.max_len, length=len(value)
        )
    if arg.kind in ("str", "rest"):
        return value
    folded = unicodedata.normalize("NFKC", value).strip()
    shown = safety.plain(value[:40])
    if arg.kind == "int":
        # Any length of digits is a whole number (a 13-digit one too); what is too large for
        # the database's 64-bit integers is out of range, said so, never "not an integer".
        if not re.fullmatch(r"[+-]?[0-9]{1,40}", folded):
            raise _usage_error(spec, lang, T.not_int, label=label, value=shown)
        number: float = int(folded)
        high = min(arg.high, INT_MAX) if arg.high is not None else INT_MAX
        if number > high or number < -INT_MAX:
            raise _range_error(spec, arg, lang, label, high=high)
    elif arg.kind == "float":
        if not re.fullmatch(r"[+-]?(\d{1,9}(\.\d{1,4})?|\.\d{1,4})", folded):
            raise _usage_error(spec, lang, T.not_number, label=label, value=shown)
        number = float(folded)
    elif arg.kind == "datetime":
        try:
            return datetime.strptime(re.sub(r"\s+", " ", folded), "%Y-%m-%d %H:%M")
        except ValueError:
            raise _usage_error(spec, lang, T.bad_datetime, label=label, value=shown) from None
    elif arg.kind == "choice":
        choice = folded.casefold()
        if choice not in arg.choices:
            raise _usage_error(
                spec, lang, T.bad_choice, label=label, choices=" / ".join(arg.choices)
            )
        return choice
    else:  # pragma: no cover - exhaustive
        raise AssertionError(arg.kind)
    if (arg.low is not None and number < arg.low) or (arg.high is not None and number > arg.high):
        raise _range_error(spec, arg, lang, label, high=arg.high)
    return int(number) if arg.kind == "int" else number


INT_MAX = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER on SQLite


def _shown(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _range_error(
    spec: CommandSpec, arg: Arg, lang: Lang, label: str, high: float | None
) -> UserError:
    """The range a value must lie in, naming only the bounds there are (never "None")."""
    low = arg.low
    if low is not None and high is not None:
        return _usage_error(
            spec, lang, T.out_of_range, label=label, low=_shown(low), high=_shown(high)
        )
    if low is not None:
        return _usage_error(spec, lang, T.too_small, label=label, low=_shown(low))
    assert high is not None
    return _usage_error(spec, lang, T.too_large, label=label, high=_shown(high))
