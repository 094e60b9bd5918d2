"""Component ids, in one place so pages and callbacks agree."""

URL = "url"
NAV = "nav"

ORG_RANGE = "org-range"
ORG_TODAY = "org-today"
DEPT_RANGE = "dept-range"
DEPT_NOTICE = "dept-notice"
TEAM_RANGE = "team-range"
TEAM_NOTICE = "team-notice"


def graph(name: str) -> str:
    return f"{name}-graph"


def summary(name: str) -> str:
    return f"{name}-summary"


def download(name: str) -> str:
    return f"{name}-download"


def download_button(name: str) -> str:
    return f"{name}-download-button"
