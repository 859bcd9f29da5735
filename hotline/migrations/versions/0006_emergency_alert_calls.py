"""emergency alert calls: a callback row can be a call asking a responder to accept a case

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('callback_requests') as batch:
        batch.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch.create_index('ix_callback_requests_case_id', ['case_id'], unique=False)
        batch.create_foreign_key('fk_callback_requests_case_id_cases', 'cases', ['case_id'],
                                 ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('callback_requests') as batch:
        batch.drop_constraint('fk_callback_requests_case_id_cases', type_='foreignkey')
        batch.drop_index('ix_callback_requests_case_id')
        batch.drop_column('case_id')
