"""families: persons with their own track, relation, authority and owner; courses that end with a result;
missed appointments; the disclosure log; a prison case's release date; per-person steps and facts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 03:00:00.000000

Existing cases change nothing visible: every person of a case gets the case's track, responsible authority,
owner and referral time (the case's values stay the defaults of its first person); ended courses keep no
result (reports count a course ended before results existed as completed, as they did); the report facts
are derived again so the persons' facts carry their track and authority.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0013'
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subject', schema=None) as batch_op:
        batch_op.add_column(sa.Column('track', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('responsible_org', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=True))
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('referred_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_subject_owner_id_member', 'member', ['owner_id'], ['id'])
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('release_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    with op.batch_alter_table('mentorsession', schema=None) as batch_op:
        batch_op.add_column(sa.Column('missed', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('case_step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('report_subject', schema=None) as batch_op:
        batch_op.add_column(sa.Column('track', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('org', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    with op.batch_alter_table('report_engagement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.create_table('disclosure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('org', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('categories', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('how', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('text_ct', sa.LargeBinary(), nullable=True),
    sa.Column('text_kid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_subject_id'), ['subject_id'], unique=False)
    _copy_case_values()
    _refresh_facts()


def _copy_case_values() -> None:
    """Each person of an existing case takes the case's track, authority, owner and referral time."""
    conn = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("track", sa.String),
                     sa.column("responsible_org", sa.String), sa.column("owner_id", sa.Integer),
                     sa.column("referred_at", storage.types.UTCDateTime()))
    subject = sa.table("subject", sa.column("case_id", sa.Integer), sa.column("track", sa.String),
                       sa.column("responsible_org", sa.String), sa.column("owner_id", sa.Integer),
                       sa.column("referred_at", storage.types.UTCDateTime()))
    values = {name: sa.select(getattr(cases.c, name)).where(cases.c.id == subject.c.case_id).scalar_subquery()
              for name in ("track", "responsible_org", "owner_id", "referred_at")}
    conn.execute(sa.update(subject).values(**values))


def _refresh_facts() -> None:
    import os
    from zoneinfo import ZoneInfo

    from storage.migrations.frozen import report_facts_0013 as facts

    conn = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("fact_key", sa.String))
    ids = [row.id for row in conn.execute(sa.select(cases.c.id).where(cases.c.fact_key.is_not(None)))]
    tz = ZoneInfo(os.environ.get("TIMEZONE", "Europe/Copenhagen"))
    for start in range(0, len(ids), 500):
        facts.refresh(conn, ids[start:start + 500], tz)


def downgrade() -> None:
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_subject_id'))
        batch_op.drop_index(batch_op.f('ix_disclosure_case_id'))
        batch_op.drop_index(batch_op.f('ix_disclosure_at'))
    op.drop_table('disclosure')
    with op.batch_alter_table('report_engagement', schema=None) as batch_op:
        batch_op.drop_column('result')
    with op.batch_alter_table('report_subject', schema=None) as batch_op:
        batch_op.drop_column('org')
        batch_op.drop_column('relation')
        batch_op.drop_column('track')
    with op.batch_alter_table('case_step', schema=None) as batch_op:
        batch_op.drop_column('subject_id')
    with op.batch_alter_table('mentorsession', schema=None) as batch_op:
        batch_op.drop_column('missed')
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.drop_column('result')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('release_at')
    with op.batch_alter_table('subject', schema=None) as batch_op:
        batch_op.drop_constraint('fk_subject_owner_id_member', type_='foreignkey')
        batch_op.drop_column('referred_at')
        batch_op.drop_column('owner_id')
        batch_op.drop_column('responsible_org')
        batch_op.drop_column('relation')
        batch_op.drop_column('track')
