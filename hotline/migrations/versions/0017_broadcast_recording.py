"""broadcast recording: a voice broadcast may play a staff recording instead of its text"""

from hotline.migrations import helpers as h

revision = '0017'
down_revision = '0016'

RECORDING = h.Columns('broadcasts', [
    h.string('recording', 64, null=True),
    h.integer('recording_seconds', null=True),
])


def upgrade() -> None:
    RECORDING.upgrade()


def downgrade() -> None:
    RECORDING.downgrade()
