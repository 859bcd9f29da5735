"""meetings reminders broadcasts"""

from hotline.migrations import helpers as h

revision = '0003'
down_revision = '0002'

CHANGES = [
    h.Table('meeting_series', [
        h.ref('group_id', 'groups', index=True),
        h.string('rule', 20),
        h.time('local_time'),
        h.string('place', 200),
        h.text('topic'),
        h.date('starts_on'),
        h.date('until', null=True),
        h.boolean('active'),
        h.created_at(),
    ]),
    h.Table('broadcasts', [
        h.text('body'),
        h.json('segment'),
        h.string('status', 10),
        h.utc('send_at', null=True),
        h.ref('created_by_id', 'staff_users', null=True, ondelete='SET NULL'),
        h.created_at(),
        h.utc('queued_at', null=True),
        h.integer('recipients'),
    ], indexes=[h.index('ix_broadcasts_status_send_at', 'status', 'send_at')]),
    h.Table('meeting_reminders', [
        h.ref('meeting_id', 'meetings', ondelete='CASCADE', index=True),
        h.integer('version'),
        h.integer('offset_minutes'),
        h.utc('due_at'),
        h.string('status', 10),
        h.utc('done_at', null=True),
        h.integer('recipients'),
    ], indexes=[h.index('ix_meeting_reminders_status_due', 'status', 'due_at')]),
    h.Indexed('people', h.index('ix_people_bhyt_expires_on', 'bhyt_expires_on')),
    h.Columns('attendance', [h.string('rsvp_channel', 8, null=True)]),
    h.Columns('meetings', [
        h.ref('series_id', 'meeting_series', null=True),
        h.date('occurrence', null=True),
        h.integer('version', server_default='1'),
    ], unique=[('series_id', 'occurrence')]),
    h.Columns('messages', [
        h.ref('broadcast_id', 'broadcasts', null=True, ondelete='SET NULL', index=True),
        h.utc('expires_at', null=True),
    ]),
]


def upgrade() -> None:
    h.apply(CHANGES)


def downgrade() -> None:
    h.revert(CHANGES)
