"""case retention: when a closed case's identifying data was removed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))
    # The retention job's queue: closed cases not yet anonymised, oldest closing first.
    op.create_index('ix_cases_retention_due', 'cases', ['anonymised_at', 'closed_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_retention_due', table_name='cases')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('anonymised_at')
