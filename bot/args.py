"""Commands as data: a ``CommandSpec`` with its ``Arg``s, and the parsing that turns the text
after a command's name into checked keyword arguments, or a ``UserError`` naming the form."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from bot import safety
from bot.errors import UserError
from bot.forms import Choice, fold, read_hours, read_int, read_time
from bot.i18n import Lang, Text, has_cjk
from domain.times import parse_local

# "hours" reads 2 / 2小时 / 2h / 90分钟; "time" reads 8:05 / 6:30pm / 下午6点半 as "HH:MM";
# "datetime" reads 2026-12-05 18:30 / 12月5日 下午6点半 / 周三 19:00; "choice" reads every word
# of its ``options`` (bot.forms). The handler gets the value, never the word typed.
ArgKind = Literal["str", "int", "float", "hours", "time", "datetime", "choice", "rest", "many"]
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
        "「{label}」应为日期和时间，例如 2026-12-05 18:30、12月5日 下午6点半、周三 19:00，"
        "收到「{value}」。",
        "{label} must be a date and time, e.g. 2026-12-05 18:30 or wed 7pm, got '{value}'.",
    )
    bad_hours = Text(
        "「{label}」应为小时数，例如 2、1.5、2小时、90分钟，收到「{value}」。",
        "{label} must be a number of hours, e.g. 2, 1.5, 2h or 90m, got '{value}'.",
    )
    bad_time = Text(
        "「{label}」应为时间，例如 8:05、18:30、下午6点半，收到「{value}」。",
        "{label} must be a time of day, e.g. 8:05, 18:30 or 6:30pm, got '{value}'.",
    )
    bad_choice = Text("「{label}」只能是 {choices}。", "{label} must be one of {choices}.")
    too_many = Text("多余的内容：「{extra}」。", "Unexpected extra text: '{extra}'.")
    message_too_long = Text(
        "消息太长了（最多 {limit} 个字符）。",
        "That message is too long (at most {limit} characters).",
    )


# What /help shows a member may type for each kind (all of them are tested to parse).
FORMS: dict[str, dict[Lang, tuple[str, ...]]] = {
    "int": {"zh": ("12", "#12", "１２"), "en": ("12", "#12")},
    "hours": {"zh": ("2", "1.5", "2小时", "两个半小时", "90分钟"), "en": ("2", "1.5", "2h", "90m")},
    "time": {"zh": ("8:05", "18:30", "下午6点半", "晚上7点"), "en": ("8:05", "18:30", "6:30pm")},
    "datetime": {
        "zh": ("2026-12-05 18:30", "12月5日 下午6点半", "周三 19:00", "明天 9点"),
        "en": ("2026-12-05 18:30", "12/5 6:30pm", "wed 7pm", "tomorrow 9:00"),
    },
}


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
    # The choices with every word people type for them (bot.forms); ``choices`` is then
    # their values (what the handler gets).
    options: tuple[Choice, ...] = ()

    def __post_init__(self) -> None:
        if self.options and not self.choices:
            object.__setattr__(self, "choices", tuple(o.value for o in self.options))

    def all_options(self) -> tuple[Choice, ...]:
        """The options, or one per plain choice (its own only word)."""
        return self.options or tuple(Choice(c, (c,)) for c in self.choices)

    def show(self, value: str, lang: Lang) -> str:
        """How a member reading ``lang`` says the choice ``value`` (the value if unknown)."""
        hit = next((o for o in self.all_options() if o.value == value), None)
        return hit.shown(lang) if hit is not None else value

    def forms(self, lang: Lang) -> tuple[str, ...]:
        """Examples of what a member may type for this argument, in ``lang`` (for /help);
        none for free text."""
        if self.kind == "choice":
            first = self.all_options()[0]
            own = [w for w in first.words if has_cjk(w) == (lang == "zh")]
            return tuple(dict.fromkeys([*own, *self.shown_choices(lang)[1:]]))
        return FORMS.get(self.kind, {}).get(lang, ())

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
        if self.options:
            return tuple(o.shown(lang) for o in self.options)
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


class ArgError(UserError):
    """An argument that does not fit: the problem and the command's usage."""

    def __init__(self, spec: CommandSpec, lang: Lang, problem: str) -> None:
        self.spec, self.lang, self.problem = spec, lang, problem
        message = problem + "\n" + T.usage.render(lang, usage=spec.usage(lang))
        super().__init__(Text(message, message))

    def with_family(self, family: Sequence[CommandSpec]) -> UserError:
        """The same problem, with the usage of every command of the family (``/审核``,
        ``/审核 开``, ``/审核 关``), so no subcommand is hidden."""
        lines = list(dict.fromkeys(s.usage(self.lang) for s in (self.spec, *family)))
        if len(lines) == 1:
            return self
        usage = T.usage.render(self.lang, usage="").rstrip() + "\n" + "\n".join(lines)
        message = self.problem + "\n" + usage
        return UserError(Text(message, message))


def _usage_error(spec: CommandSpec, lang: Lang, text: Text, **params: object) -> ArgError:
    return ArgError(spec, lang, text.render(lang, **params))


# Kinds whose value may hold spaces ("2 hours", "下午 6点半"): as the last argument they take
# the rest of the text.
_SPACED = ("hours", "time", "datetime")


def parse_args(
    spec: CommandSpec, rest: str, lang: Lang, today: date | None = None
) -> dict[str, Any]:
    """Split and convert the argument text of ``spec``; raise an ``ArgError`` naming the form.

    ``today`` (the bot's local date) reads relative dates such as ``明天 9点``.
    """
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
            elif arg.kind == "rest" or (arg.kind in _SPACED and arg is args[-1]):
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
        out[arg.name] = _convert(spec, arg, value, lang, today)
    return out


def _convert(
    spec: CommandSpec, arg: Arg, value: str | list[str], lang: Lang, today: date | None
) -> Any:
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
        # "#12" and "12号" are how replies and people write numbers.
        digits = read_int(value)
        if digits is None:
            raise _usage_error(spec, lang, T.not_int, label=label, value=shown)
        number: float = int(digits)
        high = min(arg.high, INT_MAX) if arg.high is not None else INT_MAX
        if number > high or number < -INT_MAX:
            raise _range_error(spec, arg, lang, label, high=high)
    elif arg.kind == "float":
        if not re.fullmatch(r"[+-]?(\d{1,9}(\.\d{1,4})?|\.\d{1,4})", folded):
            raise _usage_error(spec, lang, T.not_number, label=label, value=shown)
        number = float(folded)
    elif arg.kind == "hours":
        hours = read_hours(value)
        if hours is None:
            raise _usage_error(spec, lang, T.bad_hours, label=label, value=shown)
        number = hours
    elif arg.kind == "time":
        at = read_time(value)
        if at is None:
            raise _usage_error(spec, lang, T.bad_time, label=label, value=shown)
        return at
    elif arg.kind == "datetime":
        try:
            return datetime.strptime(re.sub(r"\s+", " ", folded), "%Y-%m-%d %H:%M")
        except ValueError:
            pass
        moment = parse_local(value, today or datetime.now().date())
        if moment is None:
            raise _usage_error(spec, lang, T.bad_datetime, label=label, value=shown)
        return moment
    elif arg.kind == "choice":
        choice = fold(value)
        hit = next((o for o in arg.all_options() if choice in o.accepts()), None)
        if hit is None:
            raise _usage_error(
                spec, lang, T.bad_choice, label=label, choices=" / ".join(arg.shown_choices(lang))
            )
        return hit.value
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
