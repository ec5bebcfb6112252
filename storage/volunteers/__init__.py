"""Repositories for volunteer activities, one module per concern: ``events`` (activities,
check-in codes, reminder claims), ``signups`` (never overbooked), ``hours``, ``checkins``
(and reminder opt-outs), ``series`` (recurring activities) and ``exports`` (the rows of the
organisers' spreadsheets). Every name stays importable from ``storage.volunteers``."""

from storage.volunteers.checkins import CheckinRepo, ReminderOptOutRepo
from storage.volunteers.events import EventRepo
from storage.volunteers.exports import CreditRow, ExportRepo, HoursRow
from storage.volunteers.hours import HoursRepo
from storage.volunteers.series import SeriesRepo
from storage.volunteers.signups import Placement, SignupRepo

__all__ = [
    "CheckinRepo",
    "CreditRow",
    "EventRepo",
    "ExportRepo",
    "HoursRepo",
    "HoursRow",
    "Placement",
    "ReminderOptOutRepo",
    "SeriesRepo",
    "SignupRepo",
]
