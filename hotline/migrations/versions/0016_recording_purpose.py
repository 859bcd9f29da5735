"""recording purpose: a caller's spoken name is a recording too, with no case"""

from hotline.migrations import helpers as h

revision = '0016'
down_revision = '0015'

PURPOSE = h.Columns('recordings', [h.string('purpose', 12, server_default='complaint')])


def upgrade() -> None:
    PURPOSE.upgrade()


def downgrade() -> None:
    PURPOSE.downgrade()
