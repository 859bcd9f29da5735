"""recording purpose: a caller's spoken name is a recording too, with no case

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('recordings') as batch:
        batch.add_column(sa.Column('purpose', sa.String(length=12), nullable=False,
                                   server_default='complaint'))


def downgrade() -> None:
    with op.batch_alter_table('recordings') as batch:
        batch.drop_column('purpose')
