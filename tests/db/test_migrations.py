"""One migration chain: it builds an empty database, matches the models, and unwinds."""

import pytest
from sqlalchemy import create_engine, text

from tests.helpers import create_database, drop_database, url_string
from webapp import migrate


@pytest.mark.slow  # a database of its own, built up and unwound
def test_upgrade_on_an_empty_database_matches_the_models_and_downgrades():
    url = create_database("gridmap_migrate")
    try:
        migrate.upgrade(url_string(url))
        assert migrate.pending_changes(url_string(url)) == []
        migrate.downgrade(url_string(url), "base")
        engine = create_engine(url)
        with engine.connect() as conn:
            tables = conn.execute(
                text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                    " AND table_type = 'BASE TABLE'"
                    " AND table_name NOT IN ('spatial_ref_sys', 'alembic_version')"
                )
            ).scalar()
        engine.dispose()
        assert tables == 0
        migrate.upgrade(url_string(url))
        assert migrate.pending_changes(url_string(url)) == []
    finally:
        drop_database(url)
