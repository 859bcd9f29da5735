"""case category hint: the number the member chose (KN 6, a voice key), for staff to confirm"""

from hotline.migrations import helpers as h

revision = '0013'
down_revision = '0012'

CATEGORY_HINT = h.Columns('cases', [h.integer('category_hint', null=True)])


def upgrade() -> None:
    CATEGORY_HINT.upgrade()


def downgrade() -> None:
    CATEGORY_HINT.downgrade()
