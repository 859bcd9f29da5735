"""gateway devices: the Android SIM pool, delivery reports per part, cancels at the gateway"""

from hotline.migrations import helpers as h

revision = '0012'
down_revision = '0011'

CHANGES = [
    h.Table('gateway_devices', [
        h.string('name', 60),
        h.string('app_device_id', 64, index=True),
        h.integer('sim_number', null=True),
        h.phone(null=True),
        h.string('carrier', 20, null=True),
        h.integer('send_rate'),
        h.integer('daily_limit'),
        h.string('webhook_secret', 128, null=True),
        h.boolean('active'),
        h.utc('last_seen_at', null=True),
        h.string('last_event', 32, null=True),
        h.utc('silent_alerted_at', null=True),
        h.created_at(),
    ], unique=[('app_device_id', 'sim_number')]),
    h.Table('delivery_reports', [
        h.string('gateway', 12),
        h.string('event_id', 64),
        h.ref('message_id', 'messages', ondelete='CASCADE', index=True),
        h.string('status', 12),
        h.created_at(),
    ], unique=[('gateway', 'event_id')]),
    h.Columns('messages', [
        h.ref('device_id', 'gateway_devices', null=True, ondelete='SET NULL'),
        h.utc('cancel_requested_at', null=True),
    ], indexes=[
        h.index('ix_messages_device_sent', 'device_id', 'sent_at'),
        h.index('ix_messages_cancel_requested', 'id', where='cancel_requested_at IS NOT NULL'),
    ]),
]


def upgrade() -> None:
    h.apply(CHANGES)


def downgrade() -> None:
    h.revert(CHANGES)
