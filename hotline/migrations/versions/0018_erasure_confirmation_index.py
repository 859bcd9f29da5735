"""erasure confirmation index: the retention job finds the few confirmations by an index of
their own, not by walking every sent and delivered message"""

from hotline.migrations import helpers as h

revision = '0018'
down_revision = '0017'

CONFIRMATION = "idempotency_key LIKE 'erased:%'"
CONFIRMATION_INDEX = h.Indexed('messages', h.index('ix_messages_erasure_confirmation', 'id',
                                                   where=CONFIRMATION))


def upgrade() -> None:
    CONFIRMATION_INDEX.upgrade()


def downgrade() -> None:
    CONFIRMATION_INDEX.downgrade()
