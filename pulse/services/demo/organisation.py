"""The demo organisation: a believable NHS trust's structure, and the traits its simulated history needs."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import Department
from pulse.services import structure

BANDS = (
    ("Early", dt.time(7, 0), dt.time(15, 0)),
    ("Late", dt.time(14, 30), dt.time(22, 30)),
    ("Night", dt.time(22, 0), dt.time(7, 30)),
)

# How often each tag is named with an amber or red rating, before a department's own emphasis.
COMMON_REASONS = {
    "Staffing levels": 3.0,
    "Workload": 3.0,
    "Teamwork": 1.0,
    "Support from manager": 1.0,
    "Patient acuity": 1.0,
    "Equipment": 1.0,
    "Breaks": 1.5,
    "IT systems": 1.0,
    "Communication": 1.5,
    "Training": 0.7,
    "Bed pressures": 0.5,
    "Recognition": 0.7,
}
TAGS = tuple(COMMON_REASONS)


@dataclass(frozen=True)
class Pattern:
    """When a team works: its bands (with the share of shifts in each) and whether it works weekends."""

    bands: tuple[str, ...]
    weights: tuple[float, ...]
    weekdays_only: bool = False


WARD = Pattern(("Early", "Late", "Night"), (0.4, 0.35, 0.25))
SEVEN_DAY = Pattern(("Early", "Late"), (0.55, 0.45))
OFFICE = Pattern(("Early",), (1.0,), weekdays_only=True)
EXTENDED_WEEKDAY = Pattern(("Early", "Late"), (0.7, 0.3), weekdays_only=True)
TWILIGHT = Pattern(("Late",), (1.0,))


@dataclass(frozen=True)
class DepartmentSpec:
    name: str
    baseline: float  # log-odds of a green rating in an ordinary week
    winter: float  # how hard winter pressure bites (acute care most, back office least)
    reasons: dict[str, float]  # this department's emphasis over COMMON_REASONS
    teams: tuple[tuple[str, int, Pattern], ...]


DEPARTMENTS = (
    DepartmentSpec(
        "Emergency Department",
        0.35,
        1.0,
        {"Bed pressures": 3.0, "Patient acuity": 3.0, "Breaks": 2.5},
        (
            ("Majors", 42, WARD),
            ("Minors", 22, WARD),
            ("Resus", 18, WARD),
            ("Paediatric ED", 14, WARD),
            ("ED Reception", 12, WARD),
        ),
    ),
    DepartmentSpec(
        "Acute Medicine",
        0.45,
        1.0,
        {"Bed pressures": 2.5, "Patient acuity": 2.0},
        (
            ("Acute Medical Unit", 45, WARD),
            ("Ward 7 (Respiratory)", 30, WARD),
            ("Ward 8 (Cardiology)", 28, WARD),
            ("Ward 9 (Care of the Elderly)", 32, WARD),
            ("Ward 10 (Stroke)", 26, WARD),
            ("Same Day Emergency Care", 16, SEVEN_DAY),
        ),
    ),
    DepartmentSpec(
        "Surgery",
        0.7,
        0.7,
        {"Bed pressures": 1.5},
        (
            ("Ward 12 (General Surgery)", 30, WARD),
            ("Ward 14 (Orthopaedics)", 28, WARD),
            ("Surgical Assessment Unit", 20, WARD),
            ("Day Surgery Unit", 18, EXTENDED_WEEKDAY),
            ("Pre-operative Assessment", 7, OFFICE),
        ),
    ),
    DepartmentSpec(
        "Theatres",
        0.9,
        0.5,
        {"Equipment": 2.5, "Communication": 2.0},
        (
            ("Main Theatres", 45, WARD),
            ("Recovery", 20, WARD),
            ("Anaesthetics", 14, WARD),
            ("Sterile Services", 12, SEVEN_DAY),
            ("Day Case Theatres", 16, EXTENDED_WEEKDAY),
        ),
    ),
    DepartmentSpec(
        "Maternity",
        0.5,
        0.5,
        {"Staffing levels": 4.5, "Patient acuity": 1.5},
        (
            ("Labour Ward", 35, WARD),
            ("Birth Centre", 14, WARD),
            ("Ward 20 (Postnatal)", 24, WARD),
            ("Community Midwives", 22, SEVEN_DAY),
            ("Antenatal Clinic", 12, OFFICE),
        ),
    ),
    DepartmentSpec(
        "Children's Services",
        1.0,
        0.6,
        {"Patient acuity": 1.5},
        (
            ("Ward 22 (Children's)", 26, WARD),
            ("Neonatal Unit", 30, WARD),
            ("Children's Community Nursing", 12, OFFICE),
            ("Health Visiting", 20, OFFICE),
            ("School Nursing", 11, OFFICE),
        ),
    ),
    DepartmentSpec(
        "Community Nursing",
        0.6,
        0.8,
        {"Workload": 4.5, "IT systems": 1.5},
        (
            ("District Nursing North", 24, SEVEN_DAY),
            ("District Nursing South", 22, SEVEN_DAY),
            ("District Nursing East", 18, SEVEN_DAY),
            ("Rapid Response", 15, SEVEN_DAY),
            ("Community Hospital Ward", 28, WARD),
            ("Twilight Nursing", 6, TWILIGHT),
        ),
    ),
    DepartmentSpec(
        "Mental Health",
        0.5,
        0.4,
        {"Patient acuity": 3.0, "Support from manager": 1.5},
        (
            ("Willow Ward (Adult Inpatient)", 30, WARD),
            ("Oak Ward (Older Adults)", 26, WARD),
            ("Crisis Team", 18, WARD),
            ("Community Mental Health Team", 20, OFFICE),
            ("Psychiatric Liaison", 9, WARD),
        ),
    ),
    DepartmentSpec(
        "Outpatients",
        1.1,
        0.3,
        {"IT systems": 2.5, "Communication": 2.0, "Bed pressures": 0.0},
        (
            ("Main Outpatients", 25, OFFICE),
            ("Fracture Clinic", 10, OFFICE),
            ("Eye Clinic", 12, OFFICE),
            ("Phlebotomy", 11, OFFICE),
            ("Outpatient Booking", 14, OFFICE),
        ),
    ),
    DepartmentSpec(
        "Estates & Facilities",
        0.8,
        0.5,
        {"Equipment": 2.5, "Support from manager": 1.5, "Patient acuity": 0.0, "Bed pressures": 0.3},
        (
            ("Porters", 40, WARD),
            ("Domestic Services", 45, SEVEN_DAY),
            ("Catering", 30, SEVEN_DAY),
            ("Security", 8, WARD),
            ("Maintenance", 15, OFFICE),
        ),
    ),
    DepartmentSpec(
        "Pharmacy",
        1.0,
        0.5,
        {"Workload": 3.5, "IT systems": 2.0, "Bed pressures": 0.2},
        (("Dispensary", 20, SEVEN_DAY), ("Ward Pharmacy", 16, OFFICE), ("Aseptic Unit", 7, OFFICE)),
    ),
    DepartmentSpec(
        "Corporate Services",
        1.2,
        0.3,
        {"IT systems": 3.0, "Patient acuity": 0.0, "Bed pressures": 0.0, "Staffing levels": 1.5},
        (
            ("Finance", 18, OFFICE),
            ("HR & Workforce", 16, OFFICE),
            ("IT Service Desk", 12, EXTENDED_WEEKDAY),
            ("Patient Experience", 4, OFFICE),
            ("Medical Records", 20, OFFICE),
        ),
    ),
)

# Departments with round-the-clock inpatient care: the ones a staffing crisis plausibly hits.
TROUBLE_CANDIDATES = ("Emergency Department", "Acute Medicine", "Surgery", "Maternity", "Community Nursing")


@dataclass(frozen=True)
class DemoBand:
    id: int
    name: str
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class DemoDepartment:
    name: str
    baseline: float
    winter: float
    reason_weights: dict[str, float] = field(hash=False)


@dataclass(frozen=True)
class DemoTeam:
    id: int
    name: str
    department: str
    headcount: int
    band_ids: tuple[int, ...]
    band_weights: tuple[float, ...]
    weekdays_only: bool
    participation: float  # share of worked shifts that get rated
    morale: float  # the team's own offset on the log-odds of green (its manager, its culture)


@dataclass(frozen=True)
class Trouble:
    """A department's bad stretch, placed relative to the week the history ends in."""

    department: str
    starts_weeks_ago: int
    weeks: int
    recovery_weeks: int


@dataclass(frozen=True)
class DemoOrganisation:
    """Everything the simulation needs, so that planning the history needs no database."""

    departments: dict[str, DemoDepartment]
    teams: tuple[DemoTeam, ...]
    bands: dict[str, DemoBand]
    tags: dict[str, int]  # label -> tag id
    trouble: Trouble


# Shown after a tough shift. The national ones are real; the trust's own pages are examples to replace.
SUPPORT_LINKS = (
    (
        "Staff wellbeing service",
        "https://intranet.example.nhs.uk/wellbeing",
        "Confidential support for you, from the trust's occupational health team.",
    ),
    (
        "Freedom to Speak Up guardian",
        "https://intranet.example.nhs.uk/speak-up",
        "Raise a concern about safety or how you are treated, in confidence.",
    ),
    (
        "Samaritans: call 116 123",
        "tel:116123",
        "Free, any time, day or night, if you need someone to talk to.",
    ),
    (
        "Support for NHS people",
        "https://www.england.nhs.uk/supporting-our-nhs-people/",
        "NHS England's health and wellbeing support for staff.",
    ),
)


def has_organisation(session: Session) -> bool:
    return session.scalar(select(Department.id).limit(1)) is not None


def seed_organisation(session: Session, *, seed: int) -> DemoOrganisation:
    """Create the demo trust's departments, teams, shift bands and reason tags (flushed, not committed)."""
    rng = random.Random(seed)  # noqa: S311 - a repeatable demo, not a secret
    bands = {
        name: DemoBand(structure.add_shift_band(session, name, start, end).id, name, start, end)
        for name, start, end in BANDS
    }
    tags = {label: structure.add_reason_tag(session, label).id for label in TAGS}
    for label, url, description in SUPPORT_LINKS:
        structure.add_support_link(session, label, url, description)
    departments: dict[str, DemoDepartment] = {}
    teams: list[DemoTeam] = []
    for spec in DEPARTMENTS:
        department = structure.add_department(session, spec.name)
        departments[spec.name] = DemoDepartment(
            spec.name, spec.baseline, spec.winter, {**COMMON_REASONS, **spec.reasons}
        )
        for name, headcount, pattern in spec.teams:
            team = structure.add_team(session, department, name, headcount)
            teams.append(
                DemoTeam(
                    id=team.id,
                    name=name,
                    department=spec.name,
                    headcount=headcount,
                    band_ids=tuple(bands[b].id for b in pattern.bands),
                    band_weights=pattern.weights,
                    weekdays_only=pattern.weekdays_only,
                    participation=round(rng.uniform(0.25, 0.70), 3),
                    morale=round(rng.gauss(0.0, 0.3), 3),
                )
            )
    trouble = Trouble(
        department=rng.choice(TROUBLE_CANDIDATES),
        starts_weeks_ago=rng.randint(24, 30),
        weeks=rng.randint(10, 14),
        recovery_weeks=6,
    )
    return DemoOrganisation(departments, tuple(teams), bands, tags, trouble)
