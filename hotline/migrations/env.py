"""Alembic environment: the URL comes from the caller's config or from Settings."""

from alembic import context

import hotline.models  # noqa: F401  (registers every table)
from hotline.config import Settings
from hotline.db import Base, make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
