"""preferred name: what a person likes to be called, used where an SMS names her"""

from hotline.migrations import helpers as h

revision = '0014'
down_revision = '0013'

PREFERRED_NAME = h.Columns('people', [h.string('preferred_name', 40, null=True)])


def upgrade() -> None:
    PREFERRED_NAME.upgrade()


def downgrade() -> None:
    PREFERRED_NAME.downgrade()
