"""SQLAlchemy models, one module per noun."""

from surveys.db import Base
from surveys.models.audit import AuditEvent
from surveys.models.call_attempt import CallAttempt, CallOutcome
from surveys.models.invitation import DeliveryStatus, Invitation, InvitationStatus
from surveys.models.job_run import JobRun
from surveys.models.message import Message, MessageStatus
from surveys.models.participant import Appointment, Participant
from surveys.models.referral import SiteReferral
from surveys.models.report_count import report_answer_sets, report_counts
from surveys.models.response import Response
from surveys.models.study import MAX_MEASURES, InstrumentSource, Measure, Study, Wave
from surveys.models.throttle import ThrottleEvent
from surveys.models.user import User

__all__ = [
    "Appointment",
    "AuditEvent",
    "CallAttempt",
    "CallOutcome",
    "Base",
    "DeliveryStatus",
    "InstrumentSource",
    "Invitation",
    "InvitationStatus",
    "JobRun",
    "MAX_MEASURES",
    "Measure",
    "Message",
    "MessageStatus",
    "Participant",
    "Response",
    "report_answer_sets",
    "report_counts",
    "SiteReferral",
    "Study",
    "ThrottleEvent",
    "User",
    "Wave",
]
