"""Sign-in failures per username, server-side sessions, shared rate-limit counters.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

The failure counter moves from ``users`` to ``sign_in_failures`` (keyed by the name typed, so unknown
names lock like real ones); an account locked at upgrade stays locked. ``user_sessions`` lets sign-out,
password resets and role changes end sessions on the server. Everyone signs in again after the upgrade.
"""
import time
from datetime import timezone

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_in_failures',
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_attempt_at', sa.Float(), nullable=False),
        sa.Column('locked_until', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('username'),
    )
    op.create_table(
        'user_sessions',
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('key_hash'),
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_sessions_created_at'), ['created_at'], unique=False)
    op.create_table(
        'rate_limit_counters',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    bind = op.get_bind()
    users = sa.table('users', sa.column('username', sa.String), sa.column('failed_logins', sa.Integer),
                     sa.column('locked_until', sa.DateTime))
    failures = sa.table('sign_in_failures', sa.column('username', sa.String), sa.column('failures', sa.Integer),
                        sa.column('last_attempt_at', sa.Float), sa.column('locked_until', sa.Float))
    now = time.time()
    for username, count, locked_until in bind.execute(
            sa.select(users.c.username, users.c.failed_logins, users.c.locked_until)
            .where((users.c.failed_logins > 0) | users.c.locked_until.isnot(None))).all():
        until = locked_until.replace(tzinfo=timezone.utc).timestamp() if locked_until is not None else None
        op.execute(failures.insert().values(username=username, failures=count or 0, last_attempt_at=now,
                                            locked_until=until))
    # A plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35, PostgreSQL), not a batch rebuild: rebuilding
    # ``users`` would drop and re-create it, and its foreign keys would cascade to the API tokens.
    op.execute('ALTER TABLE users DROP COLUMN failed_logins')
    op.execute('ALTER TABLE users DROP COLUMN locked_until')


def downgrade():
    op.execute('ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0')
    op.execute('ALTER TABLE users ADD COLUMN locked_until TIMESTAMP')
    op.drop_table('rate_limit_counters')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_created_at'))
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
    op.drop_table('sign_in_failures')
