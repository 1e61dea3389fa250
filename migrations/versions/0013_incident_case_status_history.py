"""Case-status history of incidents, so a report reads each case's status as it stood at its period's end.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

``incident_status_history`` gets one row each time an import writes an incident whose case status differs
from the last one recorded (store.incidents.upsert_incidents, in the import's transaction). Existing
incidents get one row with their current status, dated by their ``updated_at`` (the last time the row was
written, the earliest moment the status is known to have held). Nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "incident_status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("case_status", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["import_batch_id"], ["import_batches.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_status_history_incident", "incident_status_history", ["incident_id", "recorded_at"])
    op.execute("INSERT INTO incident_status_history (incident_id, case_status, recorded_at, import_batch_id) "
               "SELECT id, case_status, updated_at, import_batch_id FROM incidents")


def downgrade():
    op.drop_index("ix_incident_status_history_incident", table_name="incident_status_history")
    op.drop_table("incident_status_history")
