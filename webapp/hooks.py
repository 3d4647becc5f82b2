"""The ORM session hooks every write relies on, turned on once per process.

Containment (a feature inside its parent, its community and grid filled in) runs first, then
child rows take their parent's community (webapp.models.keys), then the catchment hooks
(recompute the service circles a facility or road change affects). The app factory, the
``gridmap`` command and the tests' engine call ``register_listeners``; the database module
itself knows no area, so no area depends on it in a circle.
"""

from __future__ import annotations


def register_listeners() -> None:
    """Turn the hooks on (idempotent: each registers once)."""
    from webapp.circles.catchments import register_listeners as keep_catchments_current
    from webapp.models.containment import register_listeners as check_containment
    from webapp.models.keys import register_listeners as copy_community_keys

    check_containment()
    copy_community_keys()
    keep_catchments_current()
