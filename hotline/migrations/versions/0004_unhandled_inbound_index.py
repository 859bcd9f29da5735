"""unhandled inbound index: webhooks store, the handle_inbound job acts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

UNHANDLED = sa.text("direction = 'in' AND handled_at IS NULL")


def upgrade() -> None:
    # Before this revision every inbound message was acted on as it was stored; one left
    # unhandled (none should be) is old, and must not be answered now by the new job.
    op.execute("UPDATE messages SET handled_at = created_at "
               "WHERE direction = 'in' AND handled_at IS NULL")
    op.create_index('ix_messages_unhandled', 'messages', ['id'], unique=False,
                    sqlite_where=UNHANDLED, postgresql_where=UNHANDLED)


def downgrade() -> None:
    op.drop_index('ix_messages_unhandled', table_name='messages',
                  sqlite_where=UNHANDLED, postgresql_where=UNHANDLED)
