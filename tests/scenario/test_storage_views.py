"""Repositories hand out frozen views, not ORM rows (issue 14): what a handler keeps after its
unit of work cannot be changed by mistake, and a status change answers with the row as it
is after the change (or None when someone was first)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from storage.db import Database
from storage.repositories import GroupSettingsRepo
from storage.skills import SkillRepo
from storage.swaps import SwapRepo

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


async def test_reads_are_frozen_views_and_a_move_answers_with_the_swap_after_it(
    storage_url: str,
) -> None:
    db = Database(storage_url)
    await db.migrate()
    try:
        async with db.transaction() as session:
            post = await SkillRepo(session).add(
                conversation_id="g",
                staff_id="alice",
                nick="Alice",
                kind="offer",
                skill="吉他",
                keywords="吉他",
                detail="",
                now=NOW,
            )
            swaps = SwapRepo(session)
            new = await swaps.create(
                conversation_id="g",
                post_id=post.id,
                proposer="bob",
                partner="alice",
                teacher="alice",
                learner="bob",
                skill="吉他",
                created_at=NOW,
            )
            accepted = await swaps.move(new, ("proposed",), "accepted", NOW)
            again = await swaps.move(new, ("proposed",), "declined", NOW)
        async with db.transaction() as session:
            kept = await SwapRepo(session).get("g", new.id)
            elsewhere = await SwapRepo(session).get("other group", new.id)
            settings = await GroupSettingsRepo(session).get("g", review_default=True)
            await GroupSettingsRepo(session).set_digest("g", weekday=2, review_default=True)
            after = await GroupSettingsRepo(session).get("g", review_default=True)
        assert new.status == "proposed"  # what was read stays what was read
        assert accepted is not None and accepted.status == "accepted"
        assert again is None  # someone was first: nothing changed
        assert kept is not None and kept.status == "accepted" and kept.hours is None
        assert elsewhere is None  # another group's number is unknown
        assert settings.digest_weekday is None and after.digest_weekday == 2
        with pytest.raises(dataclasses.FrozenInstanceError):
            post.status = "withdrawn"  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            kept.status = "done"  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            settings.digest_enabled = False  # type: ignore[misc]
    finally:
        await db.dispose()
