"""voice notices: a person's notify channel, notice calls and what they stand for"""

from hotline.migrations import helpers as h

revision = '0015'
down_revision = '0014'

CHANGES = [
    h.Columns('people', [h.string('notify_channel', 8, server_default='sms')]),
    h.Columns('callback_requests', [
        h.string('notice', 24, null=True),
        h.string('notice_ref', 64, null=True),
        h.json('notice_args', null=True),
        h.ref('message_id', 'messages', null=True, ondelete='SET NULL'),
    ], unique=[('person_id', 'notice', 'notice_ref')]),
    h.Columns('calls', [h.string('answered_by', 24, null=True)], indexes=[
        h.index('ix_calls_phone_started', 'phone', 'started_at'),
    ]),
]


def upgrade() -> None:
    h.apply(CHANGES)


def downgrade() -> None:
    h.revert(CHANGES)
