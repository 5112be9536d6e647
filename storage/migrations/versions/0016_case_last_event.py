"""cases: the timeline's last entry and last status review kept on the case row (the agenda reads them there)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 15:00:00
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# frozen: the event kinds that were a status review when this migration was written (storage/enums.py)
REVIEW_EVENTS = "('decision', 'review')"


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_event_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    # both engines store one format per column (SQLite: UTC ISO text), so MAX is the latest instant
    op.execute("UPDATE cases SET "
               "last_event_at = (SELECT MAX(e.at) FROM caseevent e WHERE e.case_id = cases.id), "
               "reviewed_at = (SELECT MAX(e.at) FROM caseevent e WHERE e.case_id = cases.id "
               f"AND e.kind IN {REVIEW_EVENTS})")


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('last_event_at')
