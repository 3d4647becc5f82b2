"""Flask extensions, created unbound and bound in ``create_app``."""

from flask import request
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
# Per client address; memory storage counts per worker process unless RATELIMIT_STORAGE_URI
# names a shared store (redis://…).
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _map_data() -> bool:
    """The map's data endpoints skip the limiter's per-request work: they belong to the map
    blueprint, which answers only staff who are logged in, and a pan fires a dozen of them."""
    return request.blueprint == "map" and request.path.startswith("/api/")


htmx = HTMX()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "info"
