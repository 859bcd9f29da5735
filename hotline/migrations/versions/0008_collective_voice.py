"""collective voice: minutes, collective issues, forums, press"""

from hotline.migrations import helpers as h

revision = '0008'
down_revision = '0007'


CHANGES = [
    h.Table('forums', [
        h.string('title', 200),
        h.date('held_on'),
        h.string('place', 200),
        h.ward(),
        h.json('participants'),
        h.text('commitments'),
        h.text('notes'),
        h.utc('follow_up_at', null=True),
        h.utc('follow_up_sent_at', null=True),
        h.created_at(),
        h.ref('created_by_id', 'staff_users', null=True),
    ], indexes=[h.index('ix_forums_follow_up_due', 'follow_up_at', 'follow_up_sent_at')]),
    h.Table('collective_issues', [
        h.string('title', 200),
        h.text('description'),
        h.integer('category', null=True),
        h.ward(),
        h.date('raised_on'),
        h.ref('meeting_id', 'meetings', null=True, ondelete='SET NULL'),
        h.string('status', 12),
        h.created_at(),
        h.ref('created_by_id', 'staff_users', null=True),
    ]),
    h.Table('meeting_minutes', [
        h.ref('meeting_id', 'meetings', ondelete='CASCADE', unique=True),
        h.json('topics'),
        h.integer('attended', null=True),
        h.text('decisions'),
        h.text('issues_raised'),
        h.text('notes'),
        h.string('source', 12),
        h.ref('by_user_id', 'staff_users', null=True),
        h.ref('by_person_id', 'people', null=True),
        h.created_at(),
        h.utc('updated_at'),
    ]),
    h.Table('advocacy_steps', [
        h.ref('issue_id', 'collective_issues', ondelete='CASCADE', index=True),
        h.string('kind', 12),
        h.date('happened_on'),
        h.text('note'),
        h.ref('forum_id', 'forums', null=True, ondelete='SET NULL'),
        h.created_at(),
    ]),
    h.link_table('collective_issue_cases', 'issue_id', 'collective_issues', 'case_id', 'cases'),
    h.link_table('collective_issue_groups', 'issue_id', 'collective_issues', 'group_id', 'groups'),
    h.link_table('forum_issues', 'forum_id', 'forums', 'issue_id', 'collective_issues'),
    h.Table('press_items', [
        h.string('outlet', 120),
        h.date('published_on', index=True),
        h.string('headline', 300),
        h.string('url', 500),
        h.text('summary'),
        h.json('categories'),
        h.ref('issue_id', 'collective_issues', null=True, ondelete='SET NULL'),
        h.string('tone', 10),
        h.created_at(),
        h.ref('created_by_id', 'staff_users', null=True),
    ]),
]


def upgrade() -> None:
    h.apply(CHANGES)


def downgrade() -> None:
    h.revert(CHANGES)
