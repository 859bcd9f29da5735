"""not-sent reasons: why an outbound message did not go when it was queued"""

from alembic import op

from hotline.migrations import helpers as h

revision = '0010'
down_revision = '0009'

HOLD_REASON = h.Columns('messages', [h.string('hold_reason', 16, null=True)], indexes=[
    h.index('ix_messages_hold_reason_created', 'hold_reason', 'created_at'),
])


def upgrade() -> None:
    HOLD_REASON.upgrade()
    # What was cancelled before this revision keeps its reason where one was written.
    op.execute("UPDATE messages SET hold_reason = 'opted_out' "
               "WHERE status = 'cancelled' AND error_message = 'opted out'")
    op.execute("UPDATE messages SET hold_reason = error_message "
               "WHERE status = 'cancelled' AND error_message IN ('erased', 'expired')")
    op.execute("UPDATE messages SET hold_reason = 'changed' "
               "WHERE status = 'cancelled' AND error_message = 'meeting changed'")


def downgrade() -> None:
    HOLD_REASON.downgrade()
