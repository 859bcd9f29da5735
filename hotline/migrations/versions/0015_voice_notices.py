"""voice notices: a person's notify channel, notice calls and what they stand for

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('people') as batch:
        batch.add_column(sa.Column('notify_channel', sa.String(length=8), nullable=False,
                                   server_default='sms'))
    with op.batch_alter_table('callback_requests') as batch:
        batch.add_column(sa.Column('notice', sa.String(length=24), nullable=True))
        batch.add_column(sa.Column('notice_ref', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('notice_args', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch.create_unique_constraint('uq_callback_requests_person_id_notice_notice_ref',
                                       ['person_id', 'notice', 'notice_ref'])
        batch.create_foreign_key('fk_callback_requests_message_id_messages', 'messages',
                                 ['message_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('calls') as batch:
        batch.add_column(sa.Column('answered_by', sa.String(length=24), nullable=True))
        batch.create_index('ix_calls_phone_started', ['phone', 'started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calls') as batch:
        batch.drop_index('ix_calls_phone_started')
        batch.drop_column('answered_by')
    with op.batch_alter_table('callback_requests') as batch:
        batch.drop_constraint('fk_callback_requests_message_id_messages', type_='foreignkey')
        batch.drop_constraint('uq_callback_requests_person_id_notice_notice_ref',
                              type_='unique')
        batch.drop_column('message_id')
        batch.drop_column('notice_args')
        batch.drop_column('notice_ref')
        batch.drop_column('notice')
    with op.batch_alter_table('people') as batch:
        batch.drop_column('notify_channel')
