"""Import jobs: upload progress and results in the database, shared by every server process.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 00:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_jobs',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('skip_invalid', sa.Boolean(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('internal_error', sa.Boolean(), nullable=False),
        sa.Column('report', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_jobs_username'), ['username'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_jobs_started_at'), ['started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_jobs_started_at'))
        batch_op.drop_index(batch_op.f('ix_import_jobs_username'))
    op.drop_table('import_jobs')
