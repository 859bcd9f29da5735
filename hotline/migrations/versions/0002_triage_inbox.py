"""triage inbox"""

import sqlalchemy as sa

from hotline.migrations import helpers as h

revision = '0002'
down_revision = '0001'

CHANGES = [
    h.Columns('messages', [
        h.boolean('needs_staff', server_default=sa.false()),
        h.utc('triaged_at', null=True),
        h.ref('triaged_by_id', 'staff_users', null=True, ondelete='SET NULL'),
    ], indexes=[h.index('ix_messages_needs_staff', 'needs_staff', 'triaged_at')]),
]


def upgrade() -> None:
    h.apply(CHANGES)


def downgrade() -> None:
    h.revert(CHANGES)
