"""Feedback to the admins: ``/反馈 <内容>`` goes to them one to one with a number, and
``/回复 <编号> <内容>`` reaches the member one to one. Stored in ``storage.feedback``.
"""

from __future__ import annotations

from bot.router import Router
from handlers.feedback import commands, privacy

router = Router("feedback")
router.include_router(commands.router)
router.include_router(privacy.router)
