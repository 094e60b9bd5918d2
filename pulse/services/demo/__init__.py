"""The demo: a believable NHS trust with a year of simulated ratings, written through the live tally path."""

from pulse.services.demo.history import describe, plan_history, seed_actions, winter_pressure, write_history
from pulse.services.demo.organisation import DemoOrganisation, has_organisation, seed_organisation
from pulse.services.demo.roster import seed_roster, trial_enrolment_code
from pulse.services.demo.trust import DemoTrust, plan_trust_history, seed_trust

__all__ = [
    "DemoOrganisation",
    "DemoTrust",
    "describe",
    "has_organisation",
    "plan_history",
    "plan_trust_history",
    "seed_actions",
    "seed_organisation",
    "seed_roster",
    "seed_trust",
    "trial_enrolment_code",
    "winter_pressure",
    "write_history",
]
