"""Audit rows chained by SHA-256, with the chain's head in a row of its own.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Existing rows are chained in id order (the append-only trigger is lifted for that one UPDATE pass and put
back); from then on :func:`store.audit.record` links every new row.
"""
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa

from store.audit import row_digest

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

SQLITE_NO_UPDATE = ("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def upgrade():
    op.add_column('audit_log', sa.Column('prev_hash', sa.String(length=64), nullable=False, server_default=''))
    op.add_column('audit_log', sa.Column('row_hash', sa.String(length=64), nullable=False, server_default=''))
    op.create_table(
        'audit_chain_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    log = sa.table('audit_log', *(sa.column(c) for c in ('id', 'username', 'action', 'entity', 'entity_id',
                                                           'before', 'after', 'reason', 'prev_hash', 'row_hash')),
                   sa.column('at', sa.DateTime))
    previous, count = "", 0
    for row in bind.execute(sa.select(log).order_by(log.c.id)).mappings().all():
        link = SimpleNamespace(**{**row, "prev_hash": previous})
        digest = row_digest(link)
        bind.execute(log.update().where(log.c.id == row["id"]).values(prev_hash=previous, row_hash=digest))
        previous, count = digest, count + 1
    if dialect == "sqlite":
        op.execute(SQLITE_NO_UPDATE)
    elif dialect == "postgresql":
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    head = sa.table('audit_chain_head', sa.column('id'), sa.column('last_hash'), sa.column('rows'))
    op.execute(head.insert().values(id=1, last_hash=previous, rows=count))


def downgrade():
    op.drop_table('audit_chain_head')
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    op.drop_column('audit_log', 'row_hash')
    op.drop_column('audit_log', 'prev_hash')
    if bind.dialect.name == "sqlite":
        op.execute(SQLITE_NO_UPDATE)
