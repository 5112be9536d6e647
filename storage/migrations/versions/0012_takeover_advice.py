"""cases taken over by import (*overtaget*: taken_over_at, import_key), advice contacts (H-YYYY-NNNN) and their
report facts. Existing cases are not changed: the new columns are empty (a case koordinator received itself).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_contact',
    sa.Column('fact_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('promoted_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('fact_key')
    )
    with op.batch_alter_table('report_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_contact_received_on'), ['received_on'], unique=False)

    op.create_table('report_takeover',
    sa.Column('fact_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('taken_over_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('fact_key')
    )
    op.create_table('advice_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('text_ct', sa.LargeBinary(), nullable=True),
    sa.Column('text_kid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('promoted_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fact_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fact_key')
    )
    with op.batch_alter_table('advice_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advice_contact_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_advice_contact_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_advice_contact_ref'), ['ref'], unique=True)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('taken_over_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('import_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_import_key'), ['import_key'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_import_key'))
        batch_op.drop_column('import_key')
        batch_op.drop_column('taken_over_at')

    with op.batch_alter_table('advice_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advice_contact_ref'))
        batch_op.drop_index(batch_op.f('ix_advice_contact_received_at'))
        batch_op.drop_index(batch_op.f('ix_advice_contact_case_id'))

    op.drop_table('advice_contact')
    op.drop_table('report_takeover')
    with op.batch_alter_table('report_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_contact_received_on'))

    op.drop_table('report_contact')
