"""retention: tombstones and holds on cases; an audit chain over content digests (so entries can be redacted)

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 21:06:54.942643

The audit chain changes from hash = sha256(prev_hash + content) to content_hash = sha256(content),
hash = sha256(prev_hash + content_hash). Every existing entry is re-hashed in id order, in this migration's
transaction, so the chain verifies before and after (docs/privacy.md).
"""
import hashlib
import json
from datetime import UTC

from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
AUDIT = sa.table(
    "auditentry",
    sa.column("id", sa.Integer()), sa.column("at", storage.types.UTCDateTime()), sa.column("actor", sa.String()),
    sa.column("action", sa.String()), sa.column("case_ref", sa.String()), sa.column("result", sa.String()),
    sa.column("detail", sa.String()), sa.column("purpose_ct", sa.LargeBinary()),
    sa.column("purpose_kid", sa.String()), sa.column("prev_hash", sa.String()),
    sa.column("content_hash", sa.String()), sa.column("hash", sa.String()),
)


def _content(row) -> str:
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)
    return json.dumps({"at": at.isoformat(), "actor": row.actor, "action": row.action, "case_ref": row.case_ref,
                       "result": row.result, "detail": row.detail,
                       "purpose": bytes(row.purpose_ct).hex() if row.purpose_ct else None,
                       "purpose_kid": row.purpose_kid}, sort_keys=True, ensure_ascii=False)


def _rehash(new_scheme: bool) -> None:
    conn = op.get_bind()
    prev = GENESIS
    c = AUDIT.c
    rows = conn.execute(sa.select(c.id, c.at, c.actor, c.action, c.case_ref, c.result, c.detail, c.purpose_ct,
                                  c.purpose_kid).order_by(c.id)).all()
    for row in rows:
        body = _content(row)
        if new_scheme:
            content_hash = hashlib.sha256(body.encode()).hexdigest()
            digest = hashlib.sha256((prev + content_hash).encode()).hexdigest()
            values = {"prev_hash": prev, "content_hash": content_hash, "hash": digest}
        else:
            digest = hashlib.sha256((prev + body).encode()).hexdigest()
            values = {"prev_hash": prev, "hash": digest}
        conn.execute(sa.update(AUDIT).where(c.id == row.id).values(**values))
        prev = digest


def upgrade() -> None:
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('redacted', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hold_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hold_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hold_reason_ct', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('hold_reason_kid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_foreign_key('fk_cases_hold_by_member', 'member', ['hold_by'], ['id'])

    _rehash(new_scheme=True)


def downgrade() -> None:
    """Only while nothing was redacted: a redacted entry's original content is gone for good."""
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT count(*) FROM auditentry WHERE redacted IS NOT NULL")).scalar():
        raise RuntimeError("audit entries were redacted by retention: the old chain cannot be rebuilt")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('fk_cases_hold_by_member', type_='foreignkey')
        batch_op.drop_column('hold_reason_kid')
        batch_op.drop_column('hold_reason_ct')
        batch_op.drop_column('hold_by')
        batch_op.drop_column('hold_at')
        batch_op.drop_column('erased_at')

    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.drop_column('redacted')
        batch_op.drop_column('content_hash')
    _rehash(new_scheme=False)
