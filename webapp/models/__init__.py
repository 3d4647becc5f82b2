"""ORM models; importing this package registers every table on ``Base.metadata``."""

from .area import Community, Grid, Subdistrict
from .audit import AuditEntry
from .base import SRID, Base
from .cameras import Camera, CameraMaintenance
from .campaigns import (
    Campaign,
    CampaignEvent,
    ChecklistItem,
    Inspection,
    InspectionAttachment,
    InspectionResult,
)
from .circles import CatchmentMethod, FacilityCatchment, FacilitySnap
from .events import Department, EventCategory, EventParty, EventPhoto, EventStep, GridEvent
from .hotline import HotlineClient
from .housing import Building, Compound
from .job import Job, JobState
from .network import RoadNode, RoadSegment
from .patrol import PatrolRoute, PatrolStop, PatrolTeam
from .people import StaffPerson
from .police import PoliceRoom
from .property import PropertyRating, Rectification
from .services import Facility, FacilityType, Place
from .user import ApiToken, User, UserSession

__all__ = [
    "SRID",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Building",
    "Camera",
    "CameraMaintenance",
    "Campaign",
    "CampaignEvent",
    "CatchmentMethod",
    "ChecklistItem",
    "Community",
    "Compound",
    "Department",
    "EventCategory",
    "EventParty",
    "EventPhoto",
    "EventStep",
    "Facility",
    "FacilityCatchment",
    "FacilitySnap",
    "FacilityType",
    "Grid",
    "GridEvent",
    "HotlineClient",
    "Inspection",
    "InspectionAttachment",
    "InspectionResult",
    "Job",
    "JobState",
    "PatrolRoute",
    "PatrolStop",
    "PatrolTeam",
    "Place",
    "PoliceRoom",
    "PropertyRating",
    "Rectification",
    "RoadNode",
    "RoadSegment",
    "StaffPerson",
    "Subdistrict",
    "User",
    "UserSession",
]
