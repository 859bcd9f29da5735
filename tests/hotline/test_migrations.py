"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hotline.db import Base


def test_upgrade_head_matches_models(engine):
    # The session database was built by `alembic upgrade head` on an empty database.
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_every_model_table_exists(engine):
    from sqlalchemy import inspect

    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
