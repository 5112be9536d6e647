"""report steps: the procedure steps' facts (due, done, skipped) for "steps on time (%)", back-filled

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fact_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_step_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_step_fact_key'), ['fact_key'], unique=False)

    _backfill()


def _backfill() -> None:
    """Every case still linked to its facts gets its step facts, derived by the same function the use cases
    use (the other facts are derived again too: the same function, so the same rows)."""
    import os
    from zoneinfo import ZoneInfo

    from commands.reports import facts

    conn = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("fact_key", sa.String))
    ids = [row.id for row in conn.execute(sa.select(cases.c.id).where(cases.c.fact_key.is_not(None)))]
    tz = ZoneInfo(os.environ.get("TIMEZONE", "Europe/Copenhagen"))
    for start in range(0, len(ids), 500):
        facts.refresh(conn, ids[start:start + 500], tz, families=False)


def downgrade() -> None:
    with op.batch_alter_table('report_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_step_fact_key'))
        batch_op.drop_index(batch_op.f('ix_report_step_due_on'))

    op.drop_table('report_step')
