"""case retention: when a closed case's identifying data was removed"""

import sqlalchemy as sa

from hotline.migrations import helpers as h

revision = '0009'
down_revision = '0008'

CHANGES = [
    # Written as a plain DateTime (naive, as UTCDateTime stores it).
    h.Columns('cases', [h.Column('anonymised_at', sa.DateTime, null=True)]),
    # The retention job's queue: closed cases not yet anonymised, oldest closing first.
    h.Indexed('cases', h.index('ix_cases_retention_due', 'anonymised_at', 'closed_at')),
]


def upgrade() -> None:
    h.apply(CHANGES)


def downgrade() -> None:
    h.revert(CHANGES)
