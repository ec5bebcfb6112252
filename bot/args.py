"""Commands as data: a ``CommandSpec`` with its ``Arg``s, and the parsing that turns the text
after a command's name into checked keyword arguments, or a ``UserError`` naming the form."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot import safety
from bot.errors import UserError
from bot.i18n import Lang, Text, has_cjk

ArgKind = Literal["str", "int", "float", "datetime", "choice", "rest", "many"]
PIPES = re.compile(r"[|｜]")


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
            label = "|".join(self.shown_choices(lang))
        if self.kind == "many":
            label += "…"
        return f"[{label}]" if self.optional else f"<{label}>"

    def shown_choices(self, lang: Lang) -> tuple[str, ...]:
        """The choices to show a member: the Chinese ones in Chinese and the others in
        English, where a choice has both forms (all are accepted either way)."""
        chinese = tuple(c for c in self.choices if has_cjk(c))
        other = tuple(c for c in self.choices if not has_cjk(c))
        if chinese and other:
            return chinese if lang == "zh" else other
        return self.choices


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
                spec, lang, T.bad_choice, label=label, choices=" / ".join(arg.shown_choices(lang))
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
