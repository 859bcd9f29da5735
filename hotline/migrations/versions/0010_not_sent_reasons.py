"""not-sent reasons: why an outbound message did not go when it was queued

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('hold_reason', sa.String(length=16), nullable=True))
        batch.create_index('ix_messages_hold_reason_created', ['hold_reason', 'created_at'],
                           unique=False)
    # What was cancelled before this revision keeps its reason where one was written.
    op.execute("UPDATE messages SET hold_reason = 'opted_out' "
               "WHERE status = 'cancelled' AND error_message = 'opted out'")
    op.execute("UPDATE messages SET hold_reason = error_message "
               "WHERE status = 'cancelled' AND error_message IN ('erased', 'expired')")
    op.execute("UPDATE messages SET hold_reason = 'changed' "
               "WHERE status = 'cancelled' AND error_message = 'meeting changed'")


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_index('ix_messages_hold_reason_created')
        batch.drop_column('hold_reason')
