"""Plan targets per year (editable by an administrator), seeded from data/targets/targets_YYYY.json.

Revision ID: 0003
Revises: 0004
Create Date: 2026-11-26 01:10:00

Chained after 0004 (border gates) because 0004 was committed revising 0002 before this revision existed;
the ids are labels, the chain 0001 → 0002 → 0004 → 0003 is what counts (one head).
"""
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0004'
branch_labels = None
depends_on = None

TARGETS_DIR = Path(__file__).resolve().parents[2] / "data" / "targets"
SPEC_FIELDS = ("kind", "operator", "threshold", "stretch", "source", "label_vi", "label_en", "target_vi",
               "target_en", "plan_text")


def upgrade():
    plans = op.create_table(
        'target_plans',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('plan', sa.Text(), nullable=False),
        sa.Column('compared_with_year', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('year'),
    )
    targets = op.create_table(
        'plan_targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('operator', sa.String(length=2), nullable=False),
        sa.Column('threshold', sa.Float(), nullable=False),
        sa.Column('stretch', sa.Float(), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('label_vi', sa.Text(), nullable=False),
        sa.Column('label_en', sa.Text(), nullable=False),
        sa.Column('target_vi', sa.Text(), nullable=False),
        sa.Column('target_en', sa.Text(), nullable=False),
        sa.Column('plan_text', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['year'], ['target_plans.year'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('year', 'code'),
    )
    with op.batch_alter_table('plan_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_targets_year'), ['year'], unique=False)
    # Seed from the committed JSON files as they are at this revision (plain dicts: no app imports).
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    plan_rows, target_rows = [], []
    for path in sorted(TARGETS_DIR.glob("targets_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        year = int(data["year"])
        plan_rows.append({"year": year, "plan": data.get("plan", ""),
                          "compared_with_year": int(data.get("compared_with_year", year - 1))})
        for position, metric in enumerate(data["metrics"]):
            row = {f: metric.get(f) for f in SPEC_FIELDS}
            for f in ("label_en", "target_vi", "target_en", "plan_text"):
                row[f] = row[f] or ""
            target_rows.append({"year": year, "code": metric["code"], "position": position, "updated_at": now,
                                "updated_by": "seed", **row})
    if plan_rows:
        op.bulk_insert(plans, plan_rows)
        op.bulk_insert(targets, target_rows)


def downgrade():
    with op.batch_alter_table('plan_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_targets_year'))
    op.drop_table('plan_targets')
    op.drop_table('target_plans')
