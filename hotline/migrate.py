"""Run Alembic from code: ``flask migrate``, tests and ``make run`` all come here."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a new migration from the models (developers only)."""
    script = ScriptDirectory.from_config(alembic_config(url))
    rev_id = f"{len(list(script.walk_revisions())) + 1:04d}"
    command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=rev_id)
