"""Alembic environment: the URL comes from the config built by ``store.db.alembic_config``."""
from alembic import context
from sqlalchemy import engine_from_config, pool

from store.models import Base
import store.key_areas, store.drug_status  # noqa: F401,E401  (tracker models, revision 0002)
import store.gates  # noqa: F401,E402  (border gates, revision 0004)
import store.targets  # noqa: F401,E402  (plan targets, revision 0003)
import store.hotspot_cache  # noqa: F401,E402  (hot spot runs, revision 0005)
import store.import_jobs  # noqa: F401,E402  (upload import jobs, revision 0006)

config = context.config
target_metadata = Base.metadata

# Kept by the database itself (PostGIS point column and its index, revision 0007), not by the models.
DATABASE_OWNED = {("column", "geom"), ("index", "ix_incidents_geom"), ("table", "spatial_ref_sys")}


def include_object(_object, name, type_, _reflected, _compare_to):
    return (type_, name) not in DATABASE_OWNED


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds tables safely.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
