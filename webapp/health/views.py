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
    """200 when the database answers with PostGIS and pgRouting installed; 503 with a reason.

    Anonymous monitors call it, so it names no versions (``gridmap db check`` does)."""
    try:
        row = (
            get_session()
            .execute(
                text(
                    "SELECT postgis_lib_version() IS NOT NULL AS postgis,"
                    " EXISTS (SELECT FROM pg_extension WHERE extname = 'pgrouting') AS pgrouting"
                )
            )
            .mappings()
            .one()
        )
    except SQLAlchemyError as err:
        current_app.logger.warning("health check failed: %s", err.__class__.__name__)
        reason = "database unreachable" if isinstance(err, OperationalError) else "database error"
        return jsonify(status="error", reason=reason), 503
    if not row["pgrouting"]:
        return jsonify(status="error", reason="pgRouting extension missing"), 503
    return jsonify(status="ok")
