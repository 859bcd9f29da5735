"""unhandled inbound index: webhooks store, the handle_inbound job acts"""

from alembic import op

from hotline.migrations import helpers as h

revision = '0004'
down_revision = '0003'

UNHANDLED = "direction = 'in' AND handled_at IS NULL"
UNHANDLED_INDEX = h.Indexed('messages', h.index('ix_messages_unhandled', 'id', where=UNHANDLED))


def upgrade() -> None:
    # Before this revision every inbound message was acted on as it was stored; one left
    # unhandled (none should be) is old, and must not be answered now by the new job.
    op.execute(f"UPDATE messages SET handled_at = created_at WHERE {UNHANDLED}")
    UNHANDLED_INDEX.upgrade()


def downgrade() -> None:
    UNHANDLED_INDEX.downgrade()
