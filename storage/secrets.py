"""Per-installation secrets, generated once and kept in the database."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InstallSecret
from storage.queries import upsert

PSEUDONYM_KEY = "pseudonym"


async def install_secret(session: AsyncSession, name: str) -> bytes:
    """The installation's secret called ``name``, created (randomly) on first use."""
    await session.execute(
        upsert(session, InstallSecret)
        .values(name=name, value=secrets.token_hex(32))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    value = await session.scalar(select(InstallSecret.value).where(InstallSecret.name == name))
    assert value is not None
    return bytes.fromhex(value)


def pseudonym(secret: bytes, conversation_id: str, staff_id: str) -> str:
    """A stable stand-in for an erased member: an HMAC under the installation's secret, so
    nobody can recompute it from a staff id (an unsalted hash anyone could)."""
    digest = hmac.new(secret, f"{conversation_id}\0{staff_id}".encode(), hashlib.sha256)
    return f"erased:{digest.hexdigest()[:20]}"


async def pseudonym_of(session: AsyncSession, conversation_id: str, staff_id: str) -> str:
    """The pseudonym of a member of a group in this installation."""
    return pseudonym(await install_secret(session, PSEUDONYM_KEY), conversation_id, staff_id)
