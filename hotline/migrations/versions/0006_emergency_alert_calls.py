"""emergency alert calls: a callback row can be a call asking a responder to accept a case"""

from hotline.migrations import helpers as h

revision = '0006'
down_revision = '0005'

CHANGES = [
    h.Columns('callback_requests', [
        h.ref('case_id', 'cases', null=True, ondelete='SET NULL', index=True),
    ]),
]


def upgrade() -> None:
    h.apply(CHANGES)


def downgrade() -> None:
    h.revert(CHANGES)
