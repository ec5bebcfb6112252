"""Conversations and the members seen in them (nicks, DingTalk's admin flag, directories)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Conversation,
    Event,
    Feedback,
    InboxEvent,
    LedgerEntry,
    Like,
    Member,
    Signup,
    SkillPost,
    Story,
    Swap,
    VolunteerHours,
)
from storage.queries import prebuilt, run, table
from storage.views import MemberView as MemberView  # defined with the other views
from storage.views import view

_CONVERSATIONS = table(Conversation)
_MEMBERS = table(Member)


class ConversationRow(TypedDict):
    """A conversation seen in a batch of messages (``MemberRepo.touch_conversations``)."""

    id: str
    type: str
    title: str
    first_seen_at: datetime
    last_seen_at: datetime


class MemberRow(TypedDict):
    """A member who spoke in a batch of messages (``MemberRepo.touch_members``)."""

    conversation_id: str
    staff_id: str
    nick: str
    admin: bool  # DingTalk's isAdmin flag on the message
    now: datetime


@dataclass(slots=True)
class MemberRepo:
    """Conversations and the members seen in them."""

    session: AsyncSession

    async def touch_conversations(self, conversations: list[ConversationRow]) -> None:
        """Insert conversations seen for the first time; keep titles current."""

        def build(insert: Any) -> Any:
            stmt = insert(_CONVERSATIONS)
            return stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={"last_seen_at": stmt.excluded.last_seen_at, "title": stmt.excluded.title},
            )

        if conversations:
            await run(
                self.session, prebuilt(self.session, "touch_conversation", build), conversations
            )

    async def touch_members(self, members: list[MemberRow]) -> None:
        """Record that members spoke: first seen, last seen, nick and message count.

        Each dict has conversation_id, staff_id, nick, admin (DingTalk's flag) and now; one
        statement for the batch.
        """

        def build(insert: Any) -> Any:
            stmt = insert(_MEMBERS)
            return stmt.on_conflict_do_update(
                index_elements=["conversation_id", "staff_id"],
                set_={
                    "last_seen_at": stmt.excluded.last_seen_at,
                    "nick": stmt.excluded.nick,
                    "messages": _MEMBERS.c.messages + 1,
                    "dingtalk_admin": stmt.excluded.dingtalk_admin,
                },
            )

        rows = [
            {
                "conversation_id": m["conversation_id"],
                "staff_id": m["staff_id"],
                "nick": m["nick"],
                "first_seen_at": m["now"],
                "last_seen_at": m["now"],
                "messages": 1,
                "like_messages": 0,
                "dingtalk_admin": m["admin"],
            }
            for m in members
            if m["staff_id"]
        ]
        if rows:
            await run(self.session, prebuilt(self.session, "touch_member", build), rows)

    async def title(self, conversation_id: str) -> str:
        """A conversation's title (empty when unknown)."""
        conversation = await self.session.get(Conversation, conversation_id)
        return conversation.title if conversation is not None else ""

    async def flagged_admins(self, conversation_id: str) -> list[str]:
        """Members whose latest message carried DingTalk's admin flag."""
        rows = await self.session.execute(
            select(Member.staff_id).where(
                Member.conversation_id == conversation_id, Member.dingtalk_admin.is_(True)
            )
        )
        return list(rows.scalars())

    async def get(self, conversation_id: str, staff_id: str) -> MemberView | None:
        """A member of a conversation, as read (a frozen view)."""
        row = await self.session.get(Member, (conversation_id, staff_id))
        if row is None:
            return None
        return view(MemberView, row)

    async def nicks(self, conversation_id: str, staff_ids: list[str]) -> dict[str, str]:
        """The nick last seen from each of these members in the group (those who have one)."""
        wanted = [s for s in dict.fromkeys(staff_ids) if s]
        if not wanted:
            return {}
        # Built once (every answer that names members reads their nicks).
        stmt = prebuilt(
            self.session,
            "member_nicks",
            lambda _: select(_MEMBERS.c.staff_id, _MEMBERS.c.nick).where(
                _MEMBERS.c.conversation_id == bindparam("cid"),
                _MEMBERS.c.staff_id.in_(bindparam("sids", expanding=True)),
            ),
        )
        rows = await run(self.session, stmt, {"cid": conversation_id, "sids": wanted})
        return {staff: nick for staff, nick in rows.all() if nick}

    async def directory(self, conversation_id: str) -> dict[str, str]:
        """Every member the bot has seen in the group, with the nick last seen (may be empty)."""
        rows = await self.session.execute(
            select(Member.staff_id, Member.nick).where(Member.conversation_id == conversation_id)
        )
        return {staff: nick for staff, nick in rows.all()}

    async def group_of(self, kind: str, entity_id: int) -> str | None:
        """The group a numbered entity (``story``, ``event``, ``post``, ``swap``) belongs to.

        Numbers are unique across groups (and never reused), so a number alone names its group.
        """
        model = {
            "story": Story,
            "event": Event,
            "post": SkillPost,
            "swap": Swap,
            "feedback": Feedback,
        }.get(kind)
        if model is None or not 0 < entity_id < 2**63:
            return None
        return await self.session.scalar(
            select(model.conversation_id).where(model.id == entity_id)  # type: ignore[attr-defined]
        )

    async def data_groups(self, staff_id: str) -> list[tuple[str, str]]:
        """Every group holding something about the member (profile, stories, likes, sign-ups,
        hours, posts, swaps, credits, raw messages): (conversation id, title), by title.

        Wider than ``groups_of``: a member who only pressed card buttons in a group has likes
        or sign-ups there but never spoke. /mydata and /forget one to one cover all of them.
        """
        sources = [
            select(Member.conversation_id).where(Member.staff_id == staff_id),
            select(Story.conversation_id).where(Story.author_staff_id == staff_id),
            select(Like.conversation_id).where(Like.staff_id == staff_id),
            select(Signup.conversation_id).where(Signup.staff_id == staff_id),
            select(VolunteerHours.conversation_id).where(VolunteerHours.staff_id == staff_id),
            select(SkillPost.conversation_id).where(SkillPost.staff_id == staff_id),
            select(Feedback.conversation_id).where(Feedback.staff_id == staff_id),
            select(Swap.conversation_id).where(
                (Swap.proposer == staff_id) | (Swap.partner == staff_id)
            ),
            select(LedgerEntry.conversation_id).where(LedgerEntry.account == staff_id),
            select(InboxEvent.conversation_id).where(InboxEvent.staff_id == staff_id),
        ]
        ids: set[str] = set()
        for stmt in sources:
            ids.update(c for c in (await self.session.execute(stmt)).scalars() if c)
        if not ids:
            return []
        rows = await self.session.execute(
            select(Conversation.id, Conversation.title, Conversation.type).where(
                Conversation.id.in_(ids)
            )
        )
        known = {cid: (title, kind) for cid, title, kind in rows.all()}
        return sorted(
            (
                (cid, known.get(cid, ("", "2"))[0])
                for cid in ids
                if known.get(cid, ("", "2"))[1] == "2"
            ),
            key=lambda g: (g[1], g[0]),
        )

    async def groups_of(self, staff_id: str) -> list[tuple[str, str]]:
        """The group chats the member has spoken in: (conversation id, title), by title."""
        rows = await self.session.execute(
            select(Conversation.id, Conversation.title)
            .join(Member, Member.conversation_id == Conversation.id)
            .where(Member.staff_id == staff_id, Conversation.type == "2")
            .order_by(Conversation.title, Conversation.id)
        )
        return [(cid, title) for cid, title in rows.all()]
