"""``community-bot sandbox``: the whole bot against the local stand-in, with a terminal chat.

Type as a member; ``:as NAME`` / ``:admin NAME`` switch who you are, ``:click N`` presses a
card button, ``:help`` lists the sandbox commands. Works from a pipe too (ends at EOF).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.app import Application
from bot.cards import CATALOG
from bot.cli import setup_logging
from bot.config import Settings, load_settings
from bot.sandbox.standin import Card, Sent, StandIn

GROUP = "cid-sandbox-group"
HELP = """sandbox commands:
  :as NAME        speak as member NAME
  :admin NAME     speak as NAME with DingTalk's admin flag (trusted in the sandbox)
  :group | :dm    talk in the group, or one to one with the bot
  :click N        press button N of the cards shown
  :cards          list the cards with their buttons again
  :help           this list          :quit   leave (Ctrl-D works too)
anything else is sent to the bot as a message, e.g. /help"""


def sandbox_settings(
    data_dir: Path, config: str | None, endpoint: str, standin: StandIn
) -> Settings:
    """Settings pointing at the stand-in, with SQLite under ``data_dir`` and cards on."""
    settings = load_settings(config)
    settings.dingtalk.client_id = standin.client_id
    settings.dingtalk.client_secret = type(settings.dingtalk.client_secret)(standin.client_secret)
    settings.dingtalk.robot_code = standin.client_id
    settings.dingtalk.openapi_endpoint = endpoint
    settings.storage.url = f"sqlite:///{(data_dir / 'sandbox.sqlite3').resolve()}"
    settings.admins.trust_dingtalk_admin = True
    for kind in CATALOG.values():
        if not getattr(settings.cards, kind.config_key):
            setattr(settings.cards, kind.config_key, f"sandbox.{kind.kind}")
    return settings


@dataclass
class Chat:
    """The terminal side: who is speaking, where, and the buttons on screen."""

    standin: StandIn
    out: TextIO
    member: str = "alice"
    admin: bool = False
    conversation_type: str = "2"
    buttons: list[tuple[str, str, str, str]] = field(default_factory=list)
    last_output: float = field(default_factory=time.monotonic)
    pictures: Path | None = None  # where pictures the bot sends are saved to be opened
    # Where files the bot sends (exports) are saved: the sandbox has no DingTalk to open them.
    data_dir: Path | None = None

    def show(self, sent: Sent) -> None:
        """Print what the bot sent, cards with numbered buttons."""
        self.last_output = time.monotonic()
        where = {"webhook": "reply", "group": "group", "o2o": "direct", "card": "card"}.get(
            sent.route, sent.route
        )
        if sent.route == "card_update":
            self.print(
                f"  [card {sent.out_track_id} updated] {json.dumps(sent.param, ensure_ascii=False)}"
            )
            return
        if sent.route == "card":
            self.print_card(sent.out_track_id)
            return
        who = f" to {', '.join(sent.user_ids)}" if sent.route == "o2o" else ""
        self.print(f"bot ({where}{who}):")
        if sent.msg_key == "sampleImageMsg":
            self.print("  " + self.picture(str(sent.param.get("photoURL", ""))))
            return
        if sent.msg_key == "sampleFile":
            self.print("  " + self.save_file(sent.param))
            return
        for line in sent.text.splitlines() or [""]:
            self.print("  " + line)

    def picture(self, photo: str) -> str:
        """A picture as a terminal can show it: its name and size, and the file it was saved
        to (a media id, ``@lAfa…``, means nothing to the person at the keyboard)."""
        media = self.standin.media.get(photo)
        if media is None:
            return f"[picture {photo}]"
        data, _content_type, filename = media
        line = f"[picture {filename}, {max(1, len(data) // 1024)} KB"
        if self.pictures is None:
            return line + "]"
        self.pictures.mkdir(parents=True, exist_ok=True)
        path = self.pictures / f"{len(list(self.pictures.iterdir())) + 1}-{Path(filename).name}"
        path.write_bytes(data)  # a chart is some tens of KB: well under the loop's 20 ms
        return f"{line}, saved as {path}]"

    def save_file(self, param: dict[str, str]) -> str:
        """Save a file message's upload under ``<data>/exports/`` and say where it is."""
        data, _, _ = self.standin.media[param["mediaId"]]
        folder = (self.data_dir or Path(".")) / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(param["fileName"]).name  # never outside the folder
        path.write_bytes(data)
        return f"[file {param['fileName']}] saved to {path.resolve()}"

    def print_card(self, out_track_id: str) -> None:
        """Render a card as text with its buttons numbered."""
        card = self.standin.cards[out_track_id]
        kind = CATALOG.get(card.data.get("kind", ""))
        self.print(f"bot (card {card.data.get('kind', '?')} #{card.data.get('id', '?')}):")
        for key, value in card.data.items():
            if key not in ("id", "kind"):
                self.print(f"  {key}: {value}")
        for private_user, values in card.private.items():
            self.print(f"  (only {private_user} sees) {json.dumps(values, ensure_ascii=False)}")
        for button in kind.buttons if kind else ():
            self.buttons.append(
                (out_track_id, button.action, card.data.get("id", ""), button.label)
            )
            self.print(f"  [{len(self.buttons)}] {button.label}")

    def print(self, line: str) -> None:
        """Write one line."""
        self.out.write(line + "\n")
        self.out.flush()

    async def command(self, line: str) -> bool:
        """Handle a ``:`` command; return False to quit."""
        verb, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if verb in ("quit", "q", "exit"):
            return False
        if verb == "as" and arg:
            self.member, self.admin = arg, False
            self.print(f"(you are now {arg})")
        elif verb == "admin" and arg:
            self.member, self.admin = arg, True
            self.print(f"(you are now {arg}, an admin)")
        elif verb == "group":
            self.conversation_type = "2"
            self.print("(talking in the group)")
        elif verb == "dm":
            self.conversation_type = "1"
            self.print("(talking one to one with the bot)")
        elif verb == "cards":
            self.buttons.clear()
            for out_track_id in self.standin.cards:
                self.print_card(out_track_id)
        elif verb == "click" and arg.isdigit() and 0 < int(arg) <= len(self.buttons):
            out_track_id, action, entity, label = self.buttons[int(arg) - 1]
            before = len(self.standin.sent)
            push = await self.standin.click(
                out_track_id, self.member, {"action": action, "id": entity}
            )
            response = StandIn.response_of(push)
            self.print(f"(pressed {label} as {self.member})")
            for part in ("cardData", "userPrivateData"):
                values = (response.get(part) or {}).get("cardParamMap")
                if values:
                    self.print(f"  card {part}: {json.dumps(values, ensure_ascii=False)}")
            # A click can make the bot send more (a story posted on approval, a notice).
            await quiet(self.standin, before, first=0.5)
        elif verb == "click":
            self.print(f"(there is no button {arg or '?'}; :cards lists the cards and buttons)")
        else:
            self.print(HELP)
        return True

    async def say(self, text: str) -> None:
        """Send ``text`` as the current member and wait briefly for the answers."""
        for name in ROBOT_NAMES:
            if text.startswith(name):
                # Typed as the README writes it (``@机器人 /故事 …``): DingTalk takes the
                # robot's own @name out of a text message's ``text.content``, which "starts
                # with a space where the @name was removed" (DINGTALK.md, the push's fields).
                text = text[len(name) :].lstrip()
                break
        conversation = GROUP if self.conversation_type == "2" else f"cid-dm-{self.member}"
        before = len(self.standin.sent)
        await self.standin.say(
            text,
            sender=self.member,
            is_admin=self.admin,
            conversation=conversation,
            conversation_type=self.conversation_type,
            title="社区沙盒群",
        )
        await quiet(self.standin, before)


async def quiet(standin: StandIn, before: int, first: float = 5.0, settle: float = 0.4) -> None:
    """Wait for the first answer after ``before``, then until nothing new arrives for a moment."""
    with contextlib.suppress(TimeoutError):
        await standin.wait_sent(before + 1, timeout=first)
    seen = len(standin.sent)
    while True:
        await asyncio.sleep(settle)
        if len(standin.sent) == seen:
            return
        seen = len(standin.sent)


ROBOT_NAMES = ("@机器人", "@社区助手")  # how a member addresses the sandbox's robot
CARDS_FILE = "standin-cards.json"  # the stand-in's cards, kept from one run to the next


def _load_cards(standin: StandIn, data_dir: Path) -> None:
    """The cards an earlier run delivered: the database remembers them (their story, their
    activity), so the stand-in must too, or updating one is refused as DingTalk refuses an
    unknown card (``param.cardNotExist``) and the log fills with delivery errors."""
    path = data_dir / CARDS_FILE
    with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
        for row in json.loads(path.read_text(encoding="utf-8")):
            card = Card(**row)
            standin.cards[card.out_track_id] = card


def _save_cards(standin: StandIn, data_dir: Path) -> None:
    path = data_dir / CARDS_FILE
    rows = [dataclasses.asdict(card) for card in standin.cards.values()]
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)


async def _main(data_dir: Path, config: str | None, out: TextIO) -> int:
    standin = StandIn(ping_interval=30.0)
    _load_cards(standin, data_dir)
    endpoint = await standin.start()
    settings = sandbox_settings(data_dir, config, endpoint, standin)
    app = Application(settings)
    chat = Chat(standin, out, pictures=data_dir / "pictures", data_dir=data_dir)
    standin.listeners.append(chat.show)
    await app.start()
    try:
        await standin.wait_connected(timeout=15)
        chat.print(
            "community-bot sandbox: a local DingTalk stand-in, the bot connected through the real "
            f"stream SDK, data in {data_dir}/sandbox.sqlite3.\n"
            "You are alice in the group 社区沙盒群. Try /help (or /帮助); :help lists sandbox commands."
        )
        loop = asyncio.get_running_loop()
        interactive = sys.stdin.isatty()
        while True:
            if interactive:
                out.write(f"{chat.member}{' (admin)' if chat.admin else ''}> ")
                out.flush()
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            if not interactive:
                chat.print(f"{chat.member}> {line}")
            if line.startswith(":"):
                if not await chat.command(line):
                    break
            else:
                await chat.say(line)
    finally:
        await app.stop()
        await standin.stop()
        _save_cards(standin, data_dir)
    return 0


def run_sandbox(*, data_dir: str, config: str | None, log_level: str) -> int:
    """Run the sandbox until EOF or ``:quit``; logs go to ``<data>/sandbox.log``."""
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    log_file = (folder / "sandbox.log").open("a", encoding="utf-8")
    setup_logging(log_level, stream=log_file)
    logging.getLogger(__name__).info("sandbox starting")
    try:
        return asyncio.run(_main(folder, config, sys.stdout))
    except KeyboardInterrupt:
        return 130
    finally:
        log_file.close()
