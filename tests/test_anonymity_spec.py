"""The anonymity specification (docs/anonymity.md) and the code that cites it: its rules are numbered A1,
A2, ... without a gap, and every citation in the repository names a rule that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "docs" / "anonymity.md"
# Where citations live: the code, the tests, the docs and the deployment files.
CITING = ["pulse", "dashboard", "tests", "docs", "deploy", "benchmarks", "scripts", "alembic"]
TOP_LEVEL = ["README.md", "gunicorn.conf.py", "docker-compose.yml", ".env.example", "Dockerfile"]
SUFFIXES = {".py", ".md", ".html", ".js", ".yml", ".yaml", ".template", ".example", ".conf", ".toml", ""}
CITATION = re.compile(r"docs/anonymity\.md((?:[\s,\-]+A\d+\b)+)")


def spec_rules() -> list[int]:
    return [int(n) for n in re.findall(r"^\*\*A(\d+)\.", SPEC.read_text(encoding="utf-8"), flags=re.M)]


def citing_files() -> list[Path]:
    files = [ROOT / name for name in TOP_LEVEL if (ROOT / name).is_file()]
    for folder in CITING:
        files += [
            path
            for path in (ROOT / folder).rglob("*")
            if path.is_file() and path.suffix in SUFFIXES and "vendor" not in path.parts
        ]
    return files


def citations() -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for path in citing_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in CITATION.finditer(text):
            numbers = {int(n) for n in re.findall(r"A(\d+)", match.group(1))}
            found.setdefault(str(path.relative_to(ROOT)), set()).update(numbers)
    return found


def test_the_rules_are_numbered_without_a_gap() -> None:
    rules = spec_rules()
    assert rules, "docs/anonymity.md defines no rule"
    assert rules == list(range(1, len(rules) + 1))


def test_every_citation_names_a_rule_of_the_specification() -> None:
    rules = set(spec_rules())
    found = citations()
    assert found, "nothing cites docs/anonymity.md"
    unknown = {path: sorted(numbers - rules) for path, numbers in found.items() if numbers - rules}
    assert unknown == {}


def test_nothing_cites_a_file_the_repository_does_not_hold() -> None:
    """The brief the specification restates lives outside the repository: citations point to the spec."""
    stale = [
        str(path.relative_to(ROOT))
        for path in citing_files()
        if path != Path(__file__) and "PRIVACY" + ".md" in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert stale == []
