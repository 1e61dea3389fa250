"""PostGIS point column with a GiST index on incidents (PostgreSQL only).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

On PostgreSQL with PostGIS, ``incidents.geom`` mirrors lon/lat (kept by a trigger, so every writer — the bulk
importer included — stays unchanged) and its GiST index answers bounding-box queries (OGC API ``bbox``)
without reading the whole table. SQLite keeps filtering on lon/lat.
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _postgis_available(bind) -> bool:
    return bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").first() is not None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _postgis_available(bind):
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("ALTER TABLE incidents ADD COLUMN geom geometry(Point, 4326)")
    op.execute("UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326)")
    op.execute("CREATE INDEX ix_incidents_geom ON incidents USING GIST (geom)")
    op.execute(
        "CREATE OR REPLACE FUNCTION incidents_set_geom() RETURNS trigger AS $$ "
        "BEGIN NEW.geom := ST_SetSRID(ST_MakePoint(NEW.lon, NEW.lat), 4326); RETURN NEW; END; "
        "$$ LANGUAGE plpgsql"
    )
    op.execute(
        "CREATE TRIGGER incidents_set_geom BEFORE INSERT OR UPDATE OF lon, lat ON incidents "
        "FOR EACH ROW EXECUTE FUNCTION incidents_set_geom()"
    )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS incidents_set_geom ON incidents")
    op.execute("DROP FUNCTION IF EXISTS incidents_set_geom()")
    op.execute("DROP INDEX IF EXISTS ix_incidents_geom")
    op.execute("ALTER TABLE incidents DROP COLUMN IF EXISTS geom")
