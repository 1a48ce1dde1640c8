"""Alembic environment: runs migrations on the connection Sift hands over."""

from __future__ import annotations

from alembic import context

from sift.storage.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # run from the alembic CLI against a URL
    import sqlalchemy as sa

    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
