"""What the migrations share: column shapes, tables named by the project's convention, indexes.

A revision says once what it adds; its upgrade creates that and its downgrade drops it again,
so the two cannot drift apart. Constraint and index names follow ``hotline.db.NAMING``
(``pk_<table>``, ``fk_<table>_<column>_<target>``, ``uq_<table>_<columns>``,
``ix_<table>_<column>``) and are written out with ``op.f``, as autogenerate wrote them.

SQLite keeps the text of each CREATE TABLE, so the order is the one the first revisions were
written in: the columns as listed, then the foreign keys by column name, then the unique
constraints; a table's indexes right after it.

Everything here is a description, built into SQLAlchemy objects each time it runs: a Column
belongs to one Table, and the tests migrate more than one database in a process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime


@dataclass(frozen=True)
class Column:
    """One column: its name, a factory for its type, and what it allows."""

    name: str
    type_: Callable[[], Any]
    null: bool = False
    server_default: Any = None
    references: str | None = None  # the table whose id a foreign key points at
    ondelete: str | None = None
    index: bool = False  # an index of its own, ix_<table>_<column>
    unique: bool = False  # a unique constraint of its own, uq_<table>_<column>

    def build(self) -> sa.Column:
        extra = {} if self.server_default is None else {"server_default": self.server_default}
        return sa.Column(self.name, self.type_(), nullable=self.null, **extra)


def integer(
    name: str, *, null: bool = False, server_default: Any = None, unique: bool = False
) -> Column:
    return Column(name, sa.Integer, null, server_default, unique=unique)


def string(
    name: str,
    length: int,
    *,
    null: bool = False,
    server_default: Any = None,
    index: bool = False,
    unique: bool = False,
) -> Column:
    type_ = partial(sa.String, length=length)
    return Column(name, type_, null, server_default, index=index, unique=unique)


def text(name: str, *, null: bool = False) -> Column:
    return Column(name, sa.Text, null)


def boolean(name: str, *, null: bool = False, server_default: Any = None) -> Column:
    return Column(name, sa.Boolean, null, server_default)


def utc(name: str, *, null: bool = False, index: bool = False) -> Column:
    """A moment, stored as naive UTC (``hotline.db.UTCDateTime``)."""
    return Column(name, UTCDateTime, null, index=index)


def date(name: str, *, null: bool = False, index: bool = False) -> Column:
    return Column(name, sa.Date, null, index=index)


def time(name: str, *, null: bool = False) -> Column:
    return Column(name, sa.Time, null)


def json(name: str, *, null: bool = False) -> Column:
    return Column(name, sa.JSON, null)


def ref(
    name: str,
    table: str,
    *,
    null: bool = False,
    ondelete: str | None = None,
    index: bool = False,
    unique: bool = False,
) -> Column:
    """An integer column with a foreign key to ``table.id``."""
    return Column(
        name, sa.Integer, null, references=table, ondelete=ondelete, index=index, unique=unique
    )


def created_at() -> Column:
    return utc("created_at")


def phone(*, null: bool = False, index: bool = False, unique: bool = False) -> Column:
    """A person's phone number, as ``hotline.phones`` writes it (+84…)."""
    return string("phone", 20, null=null, index=index, unique=unique)


def ward(name: str = "ward") -> Column:
    """A ward's name, as the member or staff wrote it; not known for everyone."""
    return string(name, 60, null=True)


@dataclass(frozen=True)
class Index:
    """A named index; ``where`` makes it partial, on SQLite and PostgreSQL alike."""

    name: str
    columns: Sequence[str]
    where: str | None = None

    def dialect_args(self) -> dict[str, Any]:
        if self.where is None:
            return {}
        where = sa.text(self.where)
        return {"sqlite_where": where, "postgresql_where": where}

    def create(self, table: str) -> None:
        op.create_index(self.name, table, list(self.columns), **self.dialect_args())

    def drop(self, table: str) -> None:
        op.drop_index(self.name, table_name=table, **self.dialect_args())


def index(name: str, *columns: str, where: str | None = None) -> Index:
    return Index(name, columns, where)


def foreign_key_name(table: str, column: Column) -> str:
    return op.f(f"fk_{table}_{column.name}_{column.references}")


def unique_name(table: str, columns: Sequence[str]) -> str:
    return op.f(f"uq_{table}_{'_'.join(columns)}")


def own_indexes(table: str, columns: Sequence[Column]) -> list[Index]:
    """The indexes of single columns marked ``index=True``."""
    return [Index(op.f(f"ix_{table}_{c.name}"), (c.name,)) for c in columns if c.index]


def uniques(columns: Sequence[Column], unique: Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """The unique column sets: single columns marked ``unique=True`` and ``unique``, by name."""
    return sorted([*((c.name,) for c in columns if c.unique), *unique], key="_".join)


def references(columns: Sequence[Column]) -> list[Column]:
    """The columns with a foreign key, by name (the order autogenerate wrote them in)."""
    return sorted((c for c in columns if c.references), key=lambda c: c.name)


@dataclass(frozen=True)
class Table:
    """A table a revision creates, with the indexes made with it.

    Without ``primary_key`` the table starts with an integer ``id``, its primary key. Its
    indexes, the named ones and those of single columns, are made in the order of their names.
    """

    name: str
    columns: Sequence[Column]
    primary_key: Sequence[str] = ()
    unique: Sequence[Sequence[str]] = ()
    indexes: Sequence[Index] = ()

    def constraints(self) -> list[sa.Constraint]:
        made: list[sa.Constraint] = [
            sa.ForeignKeyConstraint(
                [c.name],
                [f"{c.references}.id"],
                name=foreign_key_name(self.name, c),
                ondelete=c.ondelete,
            )
            for c in references(self.columns)
        ]
        primary_key = self.primary_key or ("id",)
        made.append(sa.PrimaryKeyConstraint(*primary_key, name=op.f(f"pk_{self.name}")))
        made += [
            sa.UniqueConstraint(*u, name=unique_name(self.name, u))
            for u in uniques(self.columns, self.unique)
        ]
        return made

    def all_indexes(self) -> list[Index]:
        made = [*own_indexes(self.name, self.columns), *self.indexes]
        return sorted(made, key=lambda ix: str(ix.name))

    def upgrade(self) -> None:
        columns = [] if self.primary_key else [integer("id").build()]
        columns += [c.build() for c in self.columns]
        op.create_table(self.name, *columns, *self.constraints())
        for ix in self.all_indexes():
            ix.create(self.name)

    def downgrade(self) -> None:
        for ix in reversed(self.all_indexes()):
            ix.drop(self.name)
        op.drop_table(self.name)


def link_table(name: str, left: str, left_table: str, right: str, right_table: str) -> Table:
    """A table that links two others: their two ids are its primary key; deleted with either."""
    return Table(
        name,
        [ref(left, left_table, ondelete="CASCADE"), ref(right, right_table, ondelete="CASCADE")],
        primary_key=(left, right),
    )


@dataclass(frozen=True)
class Columns:
    """Columns a revision adds to a table, with what comes with them, in one batch.

    Their foreign keys and ``index=True`` indexes are named by the convention; ``unique`` and
    ``indexes`` may span columns the table had before.
    """

    table: str
    columns: Sequence[Column]
    unique: Sequence[Sequence[str]] = ()
    indexes: Sequence[Index] = ()

    def upgrade(self) -> None:
        with op.batch_alter_table(self.table) as batch:
            for column in self.columns:
                batch.add_column(column.build())
            for u in uniques(self.columns, self.unique):
                batch.create_unique_constraint(unique_name(self.table, u), list(u))
            for ix in [*own_indexes(self.table, self.columns), *self.indexes]:
                batch.create_index(ix.name, list(ix.columns), **ix.dialect_args())
            for c in references(self.columns):
                batch.create_foreign_key(
                    foreign_key_name(self.table, c),
                    c.references,
                    [c.name],
                    ["id"],
                    ondelete=c.ondelete,
                )

    def downgrade(self) -> None:
        with op.batch_alter_table(self.table) as batch:
            for c in references(self.columns):
                batch.drop_constraint(foreign_key_name(self.table, c), type_="foreignkey")
            for ix in [*own_indexes(self.table, self.columns), *self.indexes]:
                batch.drop_index(ix.name, **ix.dialect_args())
            for u in uniques(self.columns, self.unique):
                batch.drop_constraint(unique_name(self.table, u), type_="unique")
            for column in reversed(self.columns):
                batch.drop_column(column.name)


@dataclass(frozen=True)
class Indexed:
    """An index a revision adds to a table it did not create."""

    table: str
    index: Index

    def upgrade(self) -> None:
        self.index.create(self.table)

    def downgrade(self) -> None:
        self.index.drop(self.table)


Change = Table | Columns | Indexed


def apply(changes: Sequence[Change]) -> None:
    for change in changes:
        change.upgrade()


def revert(changes: Sequence[Change]) -> None:
    """What ``apply`` did, undone in reverse: what refers to another goes first."""
    for change in reversed(changes):
        change.downgrade()
