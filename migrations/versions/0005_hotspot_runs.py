"""Hot spot runs: cached analysis results with their parameters, data version, author and time.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-26 01:40:00

Chained after 0003, the newest revision when written (the chain is 0001 → 0002 → 0004 → 0003 → 0005).
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'hotspot_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cache_key', sa.String(length=64), nullable=False),
        sa.Column('data_version', sa.Integer(), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('result', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('hotspot_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hotspot_runs_cache_key'), ['cache_key'], unique=False)


def downgrade():
    with op.batch_alter_table('hotspot_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hotspot_runs_cache_key'))
    op.drop_table('hotspot_runs')
