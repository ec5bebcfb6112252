"""Swaps (status changes settled in SQL) and the time-credit ledger of the skills feature."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LedgerEntry, Swap
from storage.queries import prebuilt, run, table, upsert
from storage.secrets import pseudonym_of
from storage.views import LedgerView, SwapView, read_all, read_one, read_written

_SWAPS = table(Swap)
_LEDGER = table(LedgerEntry)


@dataclass(slots=True)
class SwapRepo:
    """Swaps: every status change is a conditional UPDATE, so two presses make one change."""

    session: AsyncSession

    async def create(
        self,
        *,
        conversation_id: str,
        post_id: int,
        proposer: str,
        partner: str,
        teacher: str,
        learner: str,
        skill: str,
        created_at: datetime,
    ) -> SwapView:
        """A new proposal."""
        return await read_written(
            self.session,
            SwapView,
            insert(_SWAPS)
            .values(
                conversation_id=conversation_id,
                post_id=post_id,
                proposer=proposer,
                partner=partner,
                teacher=teacher,
                learner=learner,
                skill=skill,
                status="proposed",
                hours=None,
                recorded_by="",
                created_at=created_at,
                updated_at=created_at,
            )
            .returning(*_SWAPS.c),
        )

    async def get(self, conversation_id: str, swap_id: int) -> SwapView | None:
        """A swap of this group (another group's is unknown)."""
        return await read_one(
            self.session,
            SwapView,
            select(_SWAPS).where(
                _SWAPS.c.id == swap_id, _SWAPS.c.conversation_id == conversation_id
            ),
        )

    async def open_between(self, post_id: int, proposer: str) -> SwapView | None:
        """A proposal by ``proposer`` on a post that is still going."""
        return await read_one(
            self.session,
            SwapView,
            select(_SWAPS).where(
                _SWAPS.c.post_id == post_id,
                _SWAPS.c.proposer == proposer,
                _SWAPS.c.status.in_(("proposed", "accepted", "done_pending")),
            ),
        )

    async def move(
        self,
        swap: SwapView,
        from_status: Sequence[str],
        to_status: str,
        now: datetime,
        **values: Any,
    ) -> SwapView | None:
        """Change the status only if it is still one of ``from_status``: the swap as it is
        after the change, or None when someone was first (or it is gone)."""
        return await read_one(
            self.session,
            SwapView,
            update(_SWAPS)
            .where(_SWAPS.c.id == swap.id, _SWAPS.c.status.in_(tuple(from_status)))
            .values(status=to_status, updated_at=now, **values)
            .returning(*_SWAPS.c),
        )

    async def pending_on_post(self, post_id: int) -> list[SwapView]:
        """Proposals on a post not yet answered."""
        return await read_all(
            self.session,
            SwapView,
            select(_SWAPS).where(_SWAPS.c.post_id == post_id, _SWAPS.c.status == "proposed"),
        )

    async def recent_partners(
        self, conversation_id: str, staff_id: str, since: datetime
    ) -> set[str]:
        """Members ``staff_id`` swapped with (accepted or done) since ``since``."""
        # Built once (every /匹配 reads it).
        stmt = prebuilt(
            self.session,
            "swap_recent_partners",
            lambda _: select(_SWAPS.c.proposer, _SWAPS.c.partner).where(
                _SWAPS.c.conversation_id == bindparam("group"),
                _SWAPS.c.status.in_(("accepted", "done_pending", "done")),
                _SWAPS.c.updated_at >= bindparam("since", type_=_SWAPS.c.updated_at.type),
                or_(_SWAPS.c.proposer == bindparam("me"), _SWAPS.c.partner == bindparam("me")),
            ),
        )
        params = {"group": conversation_id, "since": since, "me": staff_id}
        rows = await run(self.session, stmt, params)
        return {a if b == staff_id else b for a, b in rows.all()}

    async def of_member(self, conversation_id: str, staff_id: str) -> list[SwapView]:
        """A member's swaps, newest first."""
        return await read_all(
            self.session,
            SwapView,
            select(_SWAPS)
            .where(
                _SWAPS.c.conversation_id == conversation_id,
                or_(_SWAPS.c.proposer == staff_id, _SWAPS.c.partner == staff_id),
            )
            .order_by(_SWAPS.c.id.desc()),
        )

    async def erase(self, conversation_id: str, staff_id: str) -> int:
        """Forget a member's swaps (the ledger keeps its anonymised legs)."""
        result = await self.session.execute(
            delete(Swap).where(
                Swap.conversation_id == conversation_id,
                or_(Swap.proposer == staff_id, Swap.partner == staff_id),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


class LedgerConflict(Exception):
    """A swap's legs could not both be booked; nothing was."""


@dataclass(slots=True)
class LedgerRepo:
    """Double-entry time credits: the teacher's +h and the learner's -h, once per swap."""

    session: AsyncSession

    async def transfer(
        self,
        conversation_id: str,
        swap_id: int,
        teacher: str,
        learner: str,
        hours: float,
        now: datetime,
    ) -> None:
        """Book a swap's two legs together, or nothing: raises ``LedgerConflict`` (with no
        leg written) when either leg exists already, e.g. a leftover of an erased swap whose
        number came back. A one-legged booking would leave the ledger out of balance."""
        # The savepoint rolls back when the block raises, so no leg survives a conflict.
        async with self.session.begin_nested():
            result = await self.session.execute(
                upsert(self.session, LedgerEntry)
                .values(
                    [
                        {
                            "conversation_id": conversation_id,
                            "swap_id": swap_id,
                            "account": teacher,
                            "amount": hours,
                            "at": now,
                        },
                        {
                            "conversation_id": conversation_id,
                            "swap_id": swap_id,
                            "account": learner,
                            "amount": -hours,
                            "at": now,
                        },
                    ]
                )
                .on_conflict_do_nothing(index_elements=["swap_id", "account"])
                .returning(LedgerEntry.id)
            )
            booked = len(result.all())
            if booked != 2:
                raise LedgerConflict(f"swap {swap_id}: {booked} of 2 legs could be booked")

    async def balance(self, conversation_id: str, account: str) -> float:
        """An account's balance."""
        value = await self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0.0)).where(
                LedgerEntry.conversation_id == conversation_id, LedgerEntry.account == account
            )
        )
        return float(value or 0.0)

    async def history(
        self, conversation_id: str, account: str, limit: int = 10
    ) -> list[LedgerView]:
        """An account's latest legs."""
        return await read_all(
            self.session,
            LedgerView,
            select(_LEDGER)
            .where(_LEDGER.c.conversation_id == conversation_id, _LEDGER.c.account == account)
            .order_by(_LEDGER.c.id.desc())
            .limit(limit),
        )

    async def total(self, conversation_id: str | None = None) -> float:
        """The sum over all accounts (always zero)."""
        stmt = select(func.coalesce(func.sum(LedgerEntry.amount), 0.0))
        if conversation_id is not None:
            stmt = stmt.where(LedgerEntry.conversation_id == conversation_id)
        return float(await self.session.scalar(stmt) or 0.0)

    async def anonymise(self, conversation_id: str, staff_id: str) -> int:
        """Move an erased member's legs to an anonymous account, so balances still sum to zero."""
        result = await self.session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.conversation_id == conversation_id, LedgerEntry.account == staff_id)
            .values(account=await pseudonym_of(self.session, conversation_id, staff_id))
        )
        return int(getattr(result, "rowcount", 0) or 0)
