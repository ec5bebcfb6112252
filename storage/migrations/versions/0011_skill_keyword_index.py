"""the skill keyword index: names, terms, posts pointing at their name

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:20:00.000000
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SPACES = re.compile(r"\s+")


def _normalise(skill: str) -> str:
    # handlers.skill_match.normalise as of this revision (a migration never imports the app).
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", skill).casefold()).strip()


def _terms(norm: str, words: list[str]) -> set[str]:
    # handlers.skill_match.index_terms as of this revision.
    terms = {f"k:{w}" for w in words}
    terms.update(f"c:{ch}" for ch in norm)
    terms.update(f"b:{norm[i : i + 2]}" for i in range(len(norm) - 1))
    return terms


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    names = op.create_table(
        "skill_names",
        sa.Column("id", big_id, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("norm", sa.Text(), nullable=False),
        sa.Column("keywords", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "norm", name="uq_skill_names"),
    )
    terms = op.create_table(
        "skill_terms",
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("name_id", big_id, nullable=False),
        sa.ForeignKeyConstraint(["name_id"], ["skill_names.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id", "term", "name_id"),
    )
    # SQLite rebuilds the table for the foreign key; keep its AUTOINCREMENT (see 0009).
    with op.batch_alter_table(
        "skill_posts", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("name_id", big_id, nullable=True))
        batch_op.create_foreign_key("fk_skill_posts_name", "skill_names", ["name_id"], ["id"])
        batch_op.create_index(
            "ix_posts_name",
            ["conversation_id", "status", "kind", "name_id", "id", "staff_id"],
            unique=False,
        )
    assert names is not None and terms is not None

    bind = op.get_bind()
    posts = bind.execute(
        sa.text("SELECT id, conversation_id, skill, keywords FROM skill_posts ORDER BY id")
    ).all()
    known: dict[tuple[str, str], int] = {}
    for post_id, conversation_id, skill, words in posts:
        norm = _normalise(skill)
        key = (conversation_id, norm)
        if key not in known:
            name_id = bind.execute(
                names.insert()
                .values(conversation_id=conversation_id, norm=norm, keywords=words)
                .returning(names.c.id)
            ).scalar_one()
            known[key] = name_id
            rows = [
                {"conversation_id": conversation_id, "term": t, "name_id": name_id}
                for t in _terms(norm, words.split())
            ]
            if rows:
                bind.execute(terms.insert(), rows)
        bind.execute(
            sa.text("UPDATE skill_posts SET name_id = :n WHERE id = :p"),
            {"n": known[key], "p": post_id},
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "skill_posts", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_index("ix_posts_name")
        batch_op.drop_constraint("fk_skill_posts_name", type_="foreignkey")
        batch_op.drop_column("name_id")
    op.drop_table("skill_terms")
    op.drop_table("skill_names")
