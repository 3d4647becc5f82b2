"""The distribution key of child rows: each copies its parent's community on insert.

A child table (an event's steps, a walk's points, a person's stays …) carries ``community_id``
and reaches its parent through the composite foreign key (community_id, parent id), so the
database refuses a child filed under another community than its parent's (docs/scale-out.md).
Rows added through a relationship get the key from SQLAlchemy's own sync; rows built with the
parent's id only get it here, before the flush. Bulk paths (COPY, INSERT … SELECT) write it
themselves.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from .cameras import Camera, CameraMaintenance
from .circles import FacilityCatchment, FacilitySnap
from .events import EventParty, EventPhoto, EventStep, GridEvent
from .field import Walk, WalkCheckin, WalkPoint
from .register import Person, PersonCategory, Residence
from .services import Facility

# child class → (its parent id attribute, its parent class)
PARENTS: dict[type, tuple[str, type]] = {
    EventStep: ("event_id", GridEvent),
    EventPhoto: ("event_id", GridEvent),
    EventParty: ("event_id", GridEvent),
    WalkPoint: ("walk_id", Walk),
    WalkCheckin: ("walk_id", Walk),
    Residence: ("person_id", Person),
    PersonCategory: ("person_id", Person),
    FacilityCatchment: ("facility_id", Facility),
    FacilitySnap: ("facility_id", Facility),
    CameraMaintenance: ("camera_id", Camera),
}


def register_listeners() -> None:
    """Fill the key before every flush of every ORM session (once per process)."""
    if not event.contains(Session, "before_flush", _copy_parent_community):
        event.listen(Session, "before_flush", _copy_parent_community)


def _copy_parent_community(session: Session, _context, _instances) -> None:
    with session.no_autoflush:
        for obj in session.new:
            found = PARENTS.get(type(obj))
            if found is None or obj.community_id is not None:
                continue
            attribute, parent_class = found
            parent_id = getattr(obj, attribute)
            # A parent of the same flush (no id yet) hands its key over in the flush itself.
            parent = session.get(parent_class, parent_id) if parent_id is not None else None
            if parent is not None:
                obj.community_id = parent.community_id
