"""${message}"""

import sqlalchemy as sa
from alembic import op

import hotline.db
from hotline.migrations import helpers as h
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}

# Rewrite what autogenerate wrote with the shapes in hotline.migrations.helpers (h.Table,
# h.Columns, h.Indexed, and h.apply/h.revert over one list), as the revisions before did.


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
