"""outbox lanes: a priority lane on every message and the drain's (status, lane, due_at) index

Existing rows get the lane their kind and broadcast imply (urgent: emergency, reply: reply,
a broadcast's: broadcast, the rest: reminder).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lane', sa.SmallInteger(), nullable=False,
                                      server_default=sa.text('3')))
    op.execute("UPDATE messages SET lane = CASE WHEN kind = 'urgent' THEN 0"
               " WHEN kind = 'reply' THEN 1 WHEN broadcast_id IS NOT NULL THEN 4 ELSE 3 END"
               " WHERE direction = 'out'")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_status_lane_due', ['status', 'lane', 'due_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_status_lane_due')
        batch_op.drop_column('lane')
