"""referral outcomes: service monitoring (what came of a referral, the member's answer)"""

from hotline.migrations import helpers as h

revision = '0005'
down_revision = '0004'

CHANGES = [
    h.Columns('referrals', [
        h.string('outcome_code', 16, null=True),
        h.utc('outcome_at', null=True),
        h.string('outcome_source', 12, null=True),
        h.string('member_answer', 16, null=True),
        h.utc('member_answered_at', null=True),
    ]),
]


def upgrade() -> None:
    h.apply(CHANGES)


def downgrade() -> None:
    h.revert(CHANGES)
