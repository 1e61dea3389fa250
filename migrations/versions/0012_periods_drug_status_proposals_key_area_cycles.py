"""Drug-status proposals (maker-checker for district and commune committees) and key-area cycles.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

``drug_status_proposals`` holds the indicators a district or commune committee entered, with the
plausibility warnings it confirmed, until a province planner approves (the record is then written) or
rejects it. ``key_areas.previous_cycle_id`` links an area selected again after a relapse to its earlier
cycle. Nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "drug_status_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=10), nullable=False),
        sa.Column("district_code", sa.String(length=10), nullable=False),
        sa.Column("boundary_set_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=True),
        sa.Column("indicators", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False, server_default=""),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("warnings", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("record_version", sa.Integer(), nullable=True),
        sa.Column("proposed_by", sa.String(length=80), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=False, server_default=""),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False, server_default=""),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drug_status_proposals") as batch:
        batch.create_index("ix_drug_status_proposals_district_code", ["district_code"])
        batch.create_index("ix_drug_status_proposals_state", ["state"])
    with op.batch_alter_table("key_areas") as batch:
        batch.add_column(sa.Column("previous_cycle_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_key_areas_previous_cycle", "key_areas", ["previous_cycle_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("key_areas") as batch:
        batch.drop_constraint("fk_key_areas_previous_cycle", type_="foreignkey")
        batch.drop_column("previous_cycle_id")
    op.drop_table("drug_status_proposals")
