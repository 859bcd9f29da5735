"""broadcast recording: a voice broadcast may play a staff recording instead of its text

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 17:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('broadcasts') as batch:
        batch.add_column(sa.Column('recording', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('recording_seconds', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('broadcasts') as batch:
        batch.drop_column('recording_seconds')
        batch.drop_column('recording')
