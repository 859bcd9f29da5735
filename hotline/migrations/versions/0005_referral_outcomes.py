"""referral outcomes: service monitoring (what came of a referral, the member's answer)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('outcome_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('outcome_source', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('member_answer', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('member_answered_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('member_answered_at')
        batch_op.drop_column('member_answer')
        batch_op.drop_column('outcome_source')
        batch_op.drop_column('outcome_at')
        batch_op.drop_column('outcome_code')
