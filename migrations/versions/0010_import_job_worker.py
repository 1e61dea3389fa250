"""Import jobs remember the process running them and their upload, so a killed job can be closed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('upload_path', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_column('upload_path')
        batch_op.drop_column('worker')
