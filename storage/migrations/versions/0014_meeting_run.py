"""meeting run: a decision's owner and whether it makes a follow-up; postponed/unchanged cases; attendance

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0014'
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('minuteentry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('makes_followup', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.create_foreign_key('fk_minuteentry_owner_id_member', 'member', ['owner_id'], ['id'])
    op.create_table('meetingoutcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('to_meeting_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
    sa.ForeignKeyConstraint(['to_meeting_id'], ['meeting.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'case_id')
    )
    with op.batch_alter_table('meetingoutcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetingoutcome_meeting_id'), ['meeting_id'], unique=False)
    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'member_id')
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_meeting_id'), ['meeting_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_meeting_id'))
    op.drop_table('attendance')
    with op.batch_alter_table('meetingoutcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetingoutcome_meeting_id'))
    op.drop_table('meetingoutcome')
    with op.batch_alter_table('minuteentry', schema=None) as batch_op:
        batch_op.drop_constraint('fk_minuteentry_owner_id_member', type_='foreignkey')
        batch_op.drop_column('makes_followup')
        batch_op.drop_column('owner_id')
