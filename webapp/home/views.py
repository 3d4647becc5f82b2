from flask import Blueprint
from flask_login import login_required

from webapp.db import get_session
from webapp.render import page

from .queries import LAYERS, overview

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    return page("home/index.html", overview=overview(get_session()), layers=LAYERS)
