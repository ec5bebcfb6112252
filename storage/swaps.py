"""Swaps (status changes settled in SQL) and the time-credit ledger of the skills feature."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LedgerEntry, Swap
from storage.queries import upsert
from storage.secrets import pseudonym_of


@dataclass(slots=True)
class SwapRepo:
    """Swaps: every status change is a conditional UPDATE, so two presses make one change."""

    session: AsyncSession

    async def create(self, **values: Any) -> Swap:
        """A new proposal."""
        swap = Swap(status="proposed", hours=None, recorded_by="", **values)
        swap.updated_at = swap.created_at
        self.session.add(swap)
        await self.session.flush()
        return swap

    async def get(self, conversation_id: str, swap_id: int) -> Swap | None:
        """A swap of this group."""
        swap = await self.session.get(Swap, swap_id, populate_existing=True)
        return swap if swap is not None and swap.conversation_id == conversation_id else None

    async def open_between(self, post_id: int, proposer: str) -> Swap | None:
        """A proposal by ``proposer`` on a post that is still going."""
        return (
            await self.session.execute(
                select(Swap).where(
                    Swap.post_id == post_id,
                    Swap.proposer == proposer,
                    Swap.status.in_(("proposed", "accepted", "done_pending")),
                )
            )
        ).scalar_one_or_none()

    async def move(
        self, swap: Swap, from_status: Sequence[str], to_status: str, now: datetime, **values: Any
    ) -> bool:
        """Change the status only if it is still one of ``from_status``; False if someone was first."""
        result = await self.session.execute(
            update(Swap)
            .where(Swap.id == swap.id, Swap.status.in_(tuple(from_status)))
            .values(status=to_status, updated_at=now, **values)
            .returning(Swap.id)
        )
        moved = result.scalar_one_or_none() is not None
        await self.session.refresh(swap)
        return moved

    async def pending_on_post(self, post_id: int) -> list[Swap]:
        """Proposals on a post not yet answered."""
        rows = await self.session.execute(
            select(Swap).where(Swap.post_id == post_id, Swap.status == "proposed")
        )
        return list(rows.scalars())

    async def recent_partners(
        self, conversation_id: str, staff_id: str, since: datetime
    ) -> set[str]:
        """Members ``staff_id`` swapped with (accepted or done) since ``since``."""
        rows = await self.session.execute(
            select(Swap.proposer, Swap.partner).where(
                Swap.conversation_id == conversation_id,
                Swap.status.in_(("accepted", "done_pending", "done")),
                Swap.updated_at >= since,
                or_(Swap.proposer == staff_id, Swap.partner == staff_id),
            )
        )
        return {a if b == staff_id else b for a, b in rows.all()}

    async def of_member(self, conversation_id: str, staff_id: str) -> list[Swap]:
        """A member's swaps, newest first."""
        rows = await self.session.execute(
            select(Swap)
            .where(
                Swap.conversation_id == conversation_id,
                or_(Swap.proposer == staff_id, Swap.partner == staff_id),
            )
            .order_by(Swap.id.desc())
        )
        return list(rows.scalars())

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
    ) -> list[LedgerEntry]:
        """An account's latest legs."""
        rows = await self.session.execute(
            select(LedgerEntry)
            .where(LedgerEntry.conversation_id == conversation_id, LedgerEntry.account == account)
            .order_by(LedgerEntry.id.desc())
            .limit(limit)
        )
        return list(rows.scalars())

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
