"""Boundary sets as versions: validity span, province, levels; crosswalk links; every record keeps its set.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Existing rows are attached to the set that was active (the only one a database of 0007 could use), so no
record changes meaning. Population moves to a table keyed by (set, commune, year), because commune codes are
reused across the 01/07/2025 reform.
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("boundary_sets") as batch:
        batch.add_column(sa.Column("effective_to", sa.Date(), nullable=True))
        batch.add_column(sa.Column("province_code", sa.String(length=10), nullable=False, server_default=""))
        batch.add_column(sa.Column("province_name", sa.String(length=120), nullable=False, server_default=""))
        batch.add_column(sa.Column("levels", sa.String(length=60), nullable=False,
                                   server_default="province,district,commune"))
    with op.batch_alter_table("communes") as batch:
        batch.add_column(sa.Column("former_district_code", sa.String(length=10), nullable=False, server_default=""))
        batch.add_column(sa.Column("former_district_name", sa.String(length=120), nullable=False, server_default=""))
    op.execute("UPDATE boundary_sets SET province_code = COALESCE((SELECT MIN(c.province_code) FROM communes c "
               "WHERE c.boundary_set_id = boundary_sets.id), '')")

    op.create_table(
        "crosswalk_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_set_id", sa.Integer(), nullable=False),
        sa.Column("to_set_id", sa.Integer(), nullable=False),
        sa.Column("from_code", sa.String(length=10), nullable=False),
        sa.Column("to_code", sa.String(length=10), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["from_set_id"], ["boundary_sets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["to_set_id"], ["boundary_sets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("from_set_id", "to_set_id", "from_code", "to_code"),
    )
    with op.batch_alter_table("crosswalk_links") as batch:
        batch.create_index(batch.f("ix_crosswalk_links_from_set_id"), ["from_set_id"], unique=False)
        batch.create_index(batch.f("ix_crosswalk_links_to_set_id"), ["to_set_id"], unique=False)

    op.create_table(
        "population_by_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("boundary_set_id", sa.Integer(), nullable=True),
        sa.Column("commune_code", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["boundary_set_id"], ["boundary_sets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("boundary_set_id", "commune_code", "year"),
    )
    op.execute("INSERT INTO population_by_set (boundary_set_id, commune_code, year, population, source) "
               "SELECT (SELECT id FROM boundary_sets WHERE is_active ORDER BY id LIMIT 1), commune_code, year, "
               "population, source FROM population")
    op.drop_table("population")
    op.rename_table("population_by_set", "population")
    with op.batch_alter_table("population") as batch:
        batch.create_index(batch.f("ix_population_commune_code"), ["commune_code"], unique=False)
        batch.create_index(batch.f("ix_population_boundary_set_id"), ["boundary_set_id"], unique=False)

    for table in ("incidents", "key_areas", "commune_drug_status"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("boundary_set_id", sa.Integer(), nullable=True))
            batch.create_index(batch.f(f"ix_{table}_boundary_set_id"), ["boundary_set_id"], unique=False)
        op.execute(f"UPDATE {table} SET boundary_set_id = (SELECT id FROM boundary_sets WHERE is_active "
                   "ORDER BY id LIMIT 1)")
    # A commune code names another commune after the reform, so a status is unique per set, code and year.
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("commune_drug_status", recreate="always",
                                  naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}) as batch:
            batch.drop_constraint("uq_commune_drug_status_commune_code", type_="unique")
            batch.create_unique_constraint("uq_commune_drug_status_set_commune_year",
                                           ["boundary_set_id", "commune_code", "year"])
    else:
        op.drop_constraint("commune_drug_status_commune_code_year_key", "commune_drug_status", type_="unique")
        op.create_unique_constraint("uq_commune_drug_status_set_commune_year", "commune_drug_status",
                                    ["boundary_set_id", "commune_code", "year"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("commune_code", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("commune_set_id", sa.Integer(), nullable=True))


def downgrade():
    raise NotImplementedError("0008 is not reversible: restore a backup taken before the upgrade")
