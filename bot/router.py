"""Routers with declarative commands: parsing, usage, help and the admin check live here.

A command is data (``CommandSpec``): its English name, Chinese aliases, arguments, help text
and whether it is admin-only. Handlers receive the parsed arguments as keyword arguments.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Concatenate, Literal, TypeAlias

from bot import modules
from bot.args import Arg, CommandSpec
from bot.errors import UserError
from bot.i18n import Text

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.context import ClickContext, EventContext, JobContext, MessageContext
    from bot.replies import (
        CardReply,
        CardResponse,
        CardUpdate,
        FileReply,
        ImageReply,
        MarkdownReply,
        TextReply,
    )

# What a command handler may return (``bot.dispatch.add_result`` turns it into replies).
Answer: TypeAlias = (
    "str | Text | TextReply | MarkdownReply | CardReply | ImageReply | FileReply | CardUpdate"
)
HandlerResult: TypeAlias = "Answer | Sequence[Answer] | None"
# A command handler: the message context, then the parsed arguments by name.
Handler: TypeAlias = "Callable[Concatenate[MessageContext, ...], Awaitable[HandlerResult]]"
ActionHandler: TypeAlias = "Callable[[ClickContext], Awaitable[CardResponse]]"
BatchActionHandler: TypeAlias = (
    "Callable[[Sequence[ClickContext]], Awaitable[Sequence[CardResponse | UserError]]]"
)
JobCallback: TypeAlias = "Callable[[JobContext], Awaitable[None]]"
PrivacyCollect: TypeAlias = "Callable[[EventContext, str, str], Awaitable[tuple[int, list[str]]]]"
PrivacyErase: TypeAlias = "Callable[[EventContext, str, str], Awaitable[int]]"

COMMAND_PREFIXES = ("/", "／")
MAX_TEXT = 10_000  # characters of a member's message the bot reads at all


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
    ``erased_title`` names it in the erase reply where ``title`` would read wrong there
    ("raw messages still kept" in a list of what was erased). ``kept``, for records the
    erasure keeps in another form (anonymised), names them, with ``{n}``, under "Kept" in
    the erase reply instead of among what went.
    """

    key: str
    title: Text
    collect: PrivacyCollect
    erase: PrivacyErase
    order: int = 50
    erased_title: Text | None = None
    kept: Text | None = None


@dataclass(slots=True)
class JobRoute:
    """A repeating job a feature declares; ``every`` reads its interval from the settings."""

    id: str
    callback: JobCallback
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

    def __post_init__(self) -> None:
        modules.check(self.module)

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
    ) -> Callable[[JobCallback], JobCallback]:
        """Register a repeating job (run with a ``JobContext`` in its own unit of work)."""

        def register(callback: JobCallback) -> JobCallback:
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


__all__ = [
    "ActionRoute",
    "Arg",
    "CommandSpec",
    "HandlerResult",
    "PrivacySection",
    "Router",
]
