"""outbox lanes: a priority lane on every message and the drain's (status, lane, due_at) index

Existing rows get the lane their kind and broadcast imply (urgent: emergency, reply: reply,
a broadcast's: broadcast, the rest: reminder).
"""

import sqlalchemy as sa
from alembic import op

from hotline.migrations import helpers as h

revision = '0007'
down_revision = '0006'

LANE = h.Columns('messages', [h.Column('lane', sa.SmallInteger, server_default=sa.text('3'))])
LANE_INDEX = h.Indexed('messages', h.index('ix_messages_status_lane_due', 'status', 'lane', 'due_at'))


def upgrade() -> None:
    LANE.upgrade()
    op.execute("UPDATE messages SET lane = CASE WHEN kind = 'urgent' THEN 0"
               " WHEN kind = 'reply' THEN 1 WHEN broadcast_id IS NOT NULL THEN 4 ELSE 3 END"
               " WHERE direction = 'out'")
    LANE_INDEX.upgrade()


def downgrade() -> None:
    LANE_INDEX.downgrade()
    LANE.downgrade()
