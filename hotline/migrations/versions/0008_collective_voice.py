"""collective voice: minutes, collective issues, forums, press

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:58:52.714213
"""

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('forums',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('ward', sa.String(length=60), nullable=True),
    sa.Column('participants', sa.JSON(), nullable=False),
    sa.Column('commitments', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('follow_up_at', hotline.db.UTCDateTime(), nullable=True),
    sa.Column('follow_up_sent_at', hotline.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_forums_created_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forums'))
    )
    with op.batch_alter_table('forums', schema=None) as batch_op:
        batch_op.create_index('ix_forums_follow_up_due', ['follow_up_at', 'follow_up_sent_at'], unique=False)

    op.create_table('collective_issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.Integer(), nullable=True),
    sa.Column('ward', sa.String(length=60), nullable=True),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_collective_issues_created_by_id_staff_users')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_collective_issues_meeting_id_meetings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collective_issues'))
    )
    op.create_table('meeting_minutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('attended', sa.Integer(), nullable=True),
    sa.Column('decisions', sa.Text(), nullable=False),
    sa.Column('issues_raised', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.Column('by_person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_person_id'], ['people.id'], name=op.f('fk_meeting_minutes_by_person_id_people')),
    sa.ForeignKeyConstraint(['by_user_id'], ['staff_users.id'], name=op.f('fk_meeting_minutes_by_user_id_staff_users')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_minutes_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_minutes')),
    sa.UniqueConstraint('meeting_id', name=op.f('uq_meeting_minutes_meeting_id'))
    )
    op.create_table('advocacy_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('forum_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['forum_id'], ['forums.id'], name=op.f('fk_advocacy_steps_forum_id_forums'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issue_id'], ['collective_issues.id'], name=op.f('fk_advocacy_steps_issue_id_collective_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_steps'))
    )
    with op.batch_alter_table('advocacy_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advocacy_steps_issue_id'), ['issue_id'], unique=False)

    op.create_table('collective_issue_cases',
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_collective_issue_cases_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issue_id'], ['collective_issues.id'], name=op.f('fk_collective_issue_cases_issue_id_collective_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('issue_id', 'case_id', name=op.f('pk_collective_issue_cases'))
    )
    op.create_table('collective_issue_groups',
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_collective_issue_groups_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issue_id'], ['collective_issues.id'], name=op.f('fk_collective_issue_groups_issue_id_collective_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('issue_id', 'group_id', name=op.f('pk_collective_issue_groups'))
    )
    op.create_table('forum_issues',
    sa.Column('forum_id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['forum_id'], ['forums.id'], name=op.f('fk_forum_issues_forum_id_forums'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issue_id'], ['collective_issues.id'], name=op.f('fk_forum_issues_issue_id_collective_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('forum_id', 'issue_id', name=op.f('pk_forum_issues'))
    )
    op.create_table('press_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet', sa.String(length=120), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('headline', sa.String(length=300), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('tone', sa.String(length=10), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_press_items_created_by_id_staff_users')),
    sa.ForeignKeyConstraint(['issue_id'], ['collective_issues.id'], name=op.f('fk_press_items_issue_id_collective_issues'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_press_items'))
    )
    with op.batch_alter_table('press_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_press_items_published_on'), ['published_on'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('press_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_press_items_published_on'))

    op.drop_table('press_items')
    op.drop_table('forum_issues')
    op.drop_table('collective_issue_groups')
    op.drop_table('collective_issue_cases')
    with op.batch_alter_table('advocacy_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advocacy_steps_issue_id'))

    op.drop_table('advocacy_steps')
    op.drop_table('meeting_minutes')
    op.drop_table('collective_issues')
    with op.batch_alter_table('forums', schema=None) as batch_op:
        batch_op.drop_index('ix_forums_follow_up_due')

    op.drop_table('forums')

