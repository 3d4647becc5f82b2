"""The ORM session hooks are turned on by set-up (webapp.hooks), not by importing the models."""

import subprocess
import sys

from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp import create_app
from webapp.circles import catchments
from webapp.hooks import register_listeners
from webapp.models import containment

HOOKS = [
    ("before_flush", containment._enforce_containment),
    ("before_flush", catchments._note_changes),
    ("after_flush", catchments._recompute_changed),
]


def test_importing_the_models_turns_on_no_hook():
    probe = (
        "import webapp.models, webapp.circles.catchments as c, webapp.models.containment as m;"
        "from sqlalchemy import event; from sqlalchemy.orm import Session;"
        "print(event.contains(Session, 'before_flush', m._enforce_containment),"
        " event.contains(Session, 'after_flush', c._recompute_changed))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_app_turns_the_hooks_on_once(database_url):
    create_app({"TESTING": True, "DATABASE_URL": database_url})
    register_listeners()  # again: still one of each
    for name, hook in HOOKS:
        assert event.contains(Session, name, hook)
    ours = [hook for _, hook in HOOKS[:2]]
    with Session() as session:
        # Containment first: it fills in the keys of a feature before the catchments look.
        assert [fn for fn in session.dispatch.before_flush if fn in ours] == ours
