"""gateway devices: the Android SIM pool, delivery reports per part, cancels at the gateway

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

CANCEL_REQUESTED = sa.text("cancel_requested_at IS NOT NULL")


def upgrade() -> None:
    op.create_table('gateway_devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('app_device_id', sa.String(length=64), nullable=False),
    sa.Column('sim_number', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('carrier', sa.String(length=20), nullable=True),
    sa.Column('send_rate', sa.Integer(), nullable=False),
    sa.Column('daily_limit', sa.Integer(), nullable=False),
    sa.Column('webhook_secret', sa.String(length=128), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_seen_at', hotline.db.UTCDateTime(), nullable=True),
    sa.Column('last_event', sa.String(length=32), nullable=True),
    sa.Column('silent_alerted_at', hotline.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_devices')),
    sa.UniqueConstraint('app_device_id', 'sim_number',
                        name=op.f('uq_gateway_devices_app_device_id_sim_number'))
    )
    with op.batch_alter_table('gateway_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateway_devices_app_device_id'), ['app_device_id'],
                              unique=False)

    op.create_table('delivery_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=12), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                            name=op.f('fk_delivery_reports_message_id_messages'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_reports')),
    sa.UniqueConstraint('gateway', 'event_id', name=op.f('uq_delivery_reports_gateway_event_id'))
    )
    with op.batch_alter_table('delivery_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_reports_message_id'), ['message_id'],
                              unique=False)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancel_requested_at', hotline.db.UTCDateTime(),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_messages_device_id_gateway_devices'),
                                    'gateway_devices', ['device_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_messages_device_sent', ['device_id', 'sent_at'], unique=False)
        batch_op.create_index('ix_messages_cancel_requested', ['id'], unique=False,
                              sqlite_where=CANCEL_REQUESTED, postgresql_where=CANCEL_REQUESTED)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_cancel_requested',
                            sqlite_where=CANCEL_REQUESTED, postgresql_where=CANCEL_REQUESTED)
        batch_op.drop_index('ix_messages_device_sent')
        batch_op.drop_constraint(batch_op.f('fk_messages_device_id_gateway_devices'),
                                 type_='foreignkey')
        batch_op.drop_column('cancel_requested_at')
        batch_op.drop_column('device_id')
    with op.batch_alter_table('delivery_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_reports_message_id'))
    op.drop_table('delivery_reports')
    with op.batch_alter_table('gateway_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_devices_app_device_id'))
    op.drop_table('gateway_devices')
