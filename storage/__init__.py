"""Storage: SQLAlchemy 2 models, repositories named for intent, Alembic migrations."""

from storage.db import Database

__all__ = ["Database"]
