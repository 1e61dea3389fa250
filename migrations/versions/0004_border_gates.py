"""Border gates and crossings (editable points on the Prey Veng border, optimistic version column).

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26 00:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'border_gates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('gate_class', sa.String(length=20), nullable=False),
        sa.Column('mode', sa.String(length=80), nullable=False),
        sa.Column('counterpart_kh', sa.String(length=160), nullable=False),
        sa.Column('commune_code', sa.String(length=10), nullable=False),
        sa.Column('commune_name', sa.String(length=120), nullable=False),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('approximate', sa.Boolean(), nullable=False),
        sa.Column('uncertainty_m', sa.Float(), nullable=True),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )


def downgrade():
    op.drop_table('border_gates')
