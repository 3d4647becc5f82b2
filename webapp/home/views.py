from flask import Blueprint
from flask_login import current_user, login_required

from webapp import clock
from webapp.db import get_session
from webapp.render import page

from .queries import area_of, overview

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """The overview of the user's own area (the subdistrict for the center)."""
    session = get_session()
    return page(
        "home/index.html",
        overview=overview(session, area_of(session, current_user)),
        year=clock.today().year,
    )
