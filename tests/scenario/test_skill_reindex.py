"""Skill names indexed by an older tokenizer are cut again (migration 0026, the
skills-reindex job): a name whose keywords now differ is indexed anew, with its posts; the
others are only marked; matching then reads the present keywords."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.sandbox.standin import StandIn
from domain.skill_match import TOKENIZER_ID, index_terms, keywords, normalise
from storage.models import SkillName, SkillPost, SkillTerm
from tests.conftest import BotFactory
from tests.scenario.test_stories import say


async def test_names_an_older_tokenizer_cut_are_cut_again_with_their_posts(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot()
    await say(standin, "/我会 吉他弹唱", sender="alice")
    await say(standin, "/我会 Excel 函数", sender="carol")
    async with app.db.transaction() as session:
        names = dict((await session.execute(select(SkillName.norm, SkillName.id))).all())
        old_id = names["吉他弹唱"]
        # As an older tokenizer left them: one name cut differently (one word, no "吉他"),
        # the other as the present one cuts it; neither marked with a tokenizer.
        await session.execute(update(SkillName).values(tokenizer=""))
        await session.execute(
            update(SkillName).where(SkillName.id == old_id).values(keywords="吉他弹唱")
        )
        await session.execute(
            update(SkillPost).where(SkillPost.name_id == old_id).values(keywords="吉他弹唱")
        )
        await session.execute(
            SkillTerm.__table__.delete().where(
                SkillTerm.name_id == old_id, SkillTerm.term.like("k:%")
            )
        )
        await session.execute(
            SkillTerm.__table__.insert().values(
                conversation_id="cid-group-1", term="k:吉他弹唱", name_id=old_id
            )
        )

    assert await app.jobs.run_job("skills-reindex")

    norm = normalise("吉他弹唱")
    words = keywords(norm)
    assert "吉他" in words  # what the present tokenizer gives, and the old cut lacked
    async with app.db.transaction() as session:
        rows = (
            await session.execute(
                select(SkillName.norm, SkillName.id, SkillName.keywords, SkillName.tokenizer)
            )
        ).all()
        by_norm = {n: (i, k, t) for n, i, k, t in rows}
        assert len(rows) == 2  # the old name is gone, no stray row left
        new_id, new_keywords, tokenizer = by_norm[norm]
        assert new_id != old_id  # a new id: every process's cached scores are recomputed
        assert new_keywords == " ".join(sorted(words)) and tokenizer == TOKENIZER_ID
        excel_id, _, excel_tokenizer = by_norm[normalise("Excel 函数")]
        assert excel_id == names[normalise("Excel 函数")]  # unchanged: only marked
        assert excel_tokenizer == TOKENIZER_ID
        post = (await session.execute(select(SkillPost.name_id, SkillPost.keywords))).all()
        assert (new_id, new_keywords) in post
        terms = set(
            (
                await session.execute(select(SkillTerm.term).where(SkillTerm.name_id == new_id))
            ).scalars()
        )
        assert terms == index_terms(norm, words)
        stale = (
            await session.execute(select(SkillTerm.term).where(SkillTerm.name_id == old_id))
        ).all()
        assert stale == []

    # Matching reads the new keywords: a want sharing only the word 吉他 finds the offer.
    sent = await say(standin, "/我想学 古典吉他", sender="bob")
    assert "Alice" in sent.text, sent.text
    assert await app.jobs.run_job("skills-reindex")  # nothing left: a run does nothing
