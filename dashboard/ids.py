"""Component ids, in one place so pages and callbacks agree."""

NAV = "nav"
NAV_OPTIONS = "nav-options"

RANGE = "weeks"  # a store holding the page's range of weeks, from the address
ORG_TODAY = "org-today"
DEPT_NOTICE = "dept-notice"
TEAM_NOTICE = "team-notice"
# Which rating mode (open or verified) the figures shown come from.
RATING_MODE = "rating-mode"


def graph(name: str) -> str:
    return f"{name}-graph"


def summary(name: str) -> str:
    return f"{name}-summary"


def download(name: str) -> str:
    return f"{name}-download"


def download_button(name: str) -> str:
    return f"{name}-download-button"


def spc_data(name: str) -> str:
    """A store with an SPC chart's weeks and actions, so that changing the measure fetches nothing."""
    return f"{name}-data"


def measure(name: str) -> str:
    """A store with the measure an SPC card shows."""
    return f"{name}-measure"


def measure_button(name: str, key: str) -> str:
    return f"{name}-measure-{key.replace('_', '-')}"


def actions(name: str) -> str:
    return f"{name}-list"
