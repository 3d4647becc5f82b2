"""ORM models; importing this package registers every table on ``Base.metadata``."""

from .area import Community, Grid, Subdistrict
from .audit import AuditEntry
from .base import SRID, Base
from .cameras import Camera, CameraMaintenance, CameraSnapshot
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
from .field import Walk, WalkCheckin, WalkPoint
from .generations import BoundaryArchive, BoundaryGeneration, GenerationMove
from .hotline import HotlineClient
from .housing import Building, Compound
from .job import Job, JobState
from .network import RoadNode, RoadSegment
from .patrol import PatrolRoute, PatrolStop, PatrolTeam
from .people import StaffPerson
from .police import PoliceRoom
from .property import PropertyRating, Rectification
from .register import (
    House,
    Household,
    OrgUnit,
    Person,
    PersonCategory,
    Residence,
    Visit,
    VisitFrequency,
)
from .report import Report
from .services import Facility, FacilityType, Place
from .teams import ResidentGroup, Volunteer
from .totals import RowCountDelta
from .user import ApiToken, User, UserSession

__all__ = [
    "SRID",
    "ApiToken",
    "AuditEntry",
    "Base",
    "BoundaryArchive",
    "BoundaryGeneration",
    "Building",
    "Camera",
    "CameraMaintenance",
    "CameraSnapshot",
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
    "GenerationMove",
    "Grid",
    "GridEvent",
    "HotlineClient",
    "House",
    "Household",
    "Inspection",
    "InspectionAttachment",
    "InspectionResult",
    "Job",
    "JobState",
    "OrgUnit",
    "PatrolRoute",
    "PatrolStop",
    "PatrolTeam",
    "Person",
    "PersonCategory",
    "Place",
    "PoliceRoom",
    "PropertyRating",
    "Rectification",
    "Report",
    "Residence",
    "ResidentGroup",
    "RoadNode",
    "RoadSegment",
    "RowCountDelta",
    "StaffPerson",
    "Subdistrict",
    "User",
    "UserSession",
    "Visit",
    "VisitFrequency",
    "Volunteer",
    "Walk",
    "WalkCheckin",
    "WalkPoint",
]
