"""meeting changes: series references and SEQUENCE, frozen publications

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('meetingseries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE meetingseries SET ref = 'S-' || CAST(id AS VARCHAR(12)) WHERE ref IS NULL")
    with op.batch_alter_table('meetingseries', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_meetingseries_ref', ['ref'])
    op.create_table('publication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('published_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('refs', sa.Text(), nullable=False),
    sa.Column('text_ct', sa.LargeBinary(), nullable=False),
    sa.Column('text_kid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('md_ct', sa.LargeBinary(), nullable=False),
    sa.Column('md_kid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('pdf_ct', sa.LargeBinary(), nullable=False),
    sa.Column('pdf_kid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
    sa.ForeignKeyConstraint(['published_by'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'kind', 'version')
    )
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_meeting_id'), ['meeting_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_meeting_id'))
    op.drop_table('publication')
    with op.batch_alter_table('meetingseries', schema=None) as batch_op:
        batch_op.drop_constraint('uq_meetingseries_ref', type_='unique')
        batch_op.drop_column('sequence')
        batch_op.drop_column('ref')
