from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from webapp.db import get_session

bp = Blueprint("health", __name__)


@bp.get("/livez")
def livez():
    """The process answers (no database): for load balancers and as a trivial baseline."""
    return jsonify(status="ok")


@bp.get("/healthz")
def healthz():
    """200 with the versions of the database, PostGIS and pgRouting; 503 with a reason."""
    try:
        row = (
            get_session()
            .execute(
                text(
                    "SELECT current_setting('server_version') AS postgresql,"
                    " postgis_lib_version() AS postgis,"
                    " (SELECT extversion FROM pg_extension WHERE extname = 'pgrouting')"
                    " AS pgrouting,"
                    " current_database() AS database"
                )
            )
            .mappings()
            .one()
        )
    except SQLAlchemyError as err:
        current_app.logger.warning("health check failed: %s", err.__class__.__name__)
        reason = "database unreachable" if isinstance(err, OperationalError) else "database error"
        return jsonify(status="error", reason=reason), 503
    if row["pgrouting"] is None:
        return jsonify(status="error", reason="pgRouting extension missing", **row), 503
    return jsonify(status="ok", **row)
