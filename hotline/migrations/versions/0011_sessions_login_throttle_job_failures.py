"""sessions, login throttle, job failures"""

from hotline.migrations import helpers as h

revision = '0011'
down_revision = '0010'

CHANGES = [
    h.Table('job_failures', [
        h.string('job', 40),
        h.string('object_type', 24),
        h.string('object_id', 40),
        h.text('reason'),
        h.utc('first_at'),
        h.utc('last_at'),
        h.integer('count'),
    ], unique=[('job', 'object_type', 'object_id')]),
    h.Table('login_throttle', [
        h.string('key', 200),
        h.integer('failures'),
        h.utc('window_start'),
        h.utc('locked_until', null=True),
        h.integer('burst_audit_id', null=True),
        h.integer('burst_count'),
        h.utc('burst_last_at', null=True),
    ], primary_key=('key',)),
    h.Columns('staff_users', [h.integer('session_version', server_default='0')]),
]


def upgrade() -> None:
    h.apply(CHANGES)


def downgrade() -> None:
    h.revert(CHANGES)
