"""teams: messages with details to stub after TEAMS_DETAILS_TTL, app installs through Graph

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('teams_shown',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('service_url', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
    sa.Column('activity_id', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('reopen', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('shown_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stub_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('teams_shown', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_shown_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_teams_shown_stub_at'), ['stub_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_teams_shown_done'), ['done'], unique=False)
    op.create_table('teams_reach',
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('told', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('teams_reach')
    with op.batch_alter_table('teams_shown', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_shown_done'))
        batch_op.drop_index(batch_op.f('ix_teams_shown_stub_at'))
        batch_op.drop_index(batch_op.f('ix_teams_shown_user_id'))
    op.drop_table('teams_shown')
