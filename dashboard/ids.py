"""Component ids, in one place so pages and callbacks agree."""

NAV = "nav"
NAV_OPTIONS = "nav-options"

RANGE = "weeks"  # a store holding the page's range of weeks, from the address
ORG_TODAY = "org-today"
DEPT_NOTICE = "dept-notice"
TEAM_NOTICE = "team-notice"


def graph(name: str) -> str:
    return f"{name}-graph"


def summary(name: str) -> str:
    return f"{name}-summary"


def download(name: str) -> str:
    return f"{name}-download"


def download_button(name: str) -> str:
    return f"{name}-download-button"
