"""Organisation settings: shift bands, reasons, support links, k and dashboard access. Each change is audited,
bad input is refused beside its field, and only administrators may make them."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from pulse.models import DashboardAccess, PublishedWeek, ReasonTag, ShiftBand, SupportLink
from pulse.services import organisation, structure
from tests.admin.conftest import People, audited, fresh, post, sign_in
from tests.conftest import LONDON, FakeClock
from tests.factories import add_week

K_RULE = (
    "Changing k applies to weeks published from now on. "
    "Weeks already published keep the k they were published with."
)


def refused_field(response: TestResponse, field: str) -> None:
    """A 422 naming `field`: the message beside the input, and a link to it from the error summary."""
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:500]
    assert f'id="{field}-error"' in page
    assert f'href="#{field}"' in page
    assert f'id="{field}"' in page


@pytest.fixture
def admin_client(client: FlaskClient, people: People) -> FlaskClient:
    sign_in(client, people.admin.email)
    return client


def test_the_page_shows_bands_reasons_links_and_k(admin_client: FlaskClient, people: People) -> None:
    page = admin_client.get("/admin/organisation").get_data(as_text=True)
    for text in (
        "Early",
        "07:00",
        "22:30",
        "Staffing levels",
        "Workload",
        "k is now <strong>5</strong>",
        K_RULE,
    ):
        assert text in page
    assert "keep" in page and "history" in page  # retiring is explained
    assert 'value="public" checked' in page


# --- Shift bands --------------------------------------------------------------------------------------------


def test_adding_a_shift_band_is_audited(admin_client: FlaskClient, people: People, session: Session) -> None:
    response = post(admin_client, "/admin/shift-bands", name="Twilight", start_time="18:00", end_time="02:00")
    assert response.status_code == 303
    assert response.location.endswith("/admin/organisation?done=band-added#shift-bands")
    assert audited(session) == [
        (people.admin.email, "shift_band.create", "Twilight", {"start": "18:00", "end": "02:00"})
    ]
    band = session.scalars(select(ShiftBand).where(ShiftBand.name == "Twilight")).one()
    assert (band.start_time, band.end_time, band.active) == (dt.time(18), dt.time(2), True)
    assert "The shift band has been added" in admin_client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "start_time": "18:00", "end_time": "02:00"}, "band-name"),
        ({"name": "early", "start_time": "18:00", "end_time": "02:00"}, "band-name"),  # Early exists
        ({"name": "Twilight", "start_time": "6pm", "end_time": "02:00"}, "band-start_time"),
        ({"name": "Twilight", "start_time": "18:00", "end_time": ""}, "band-end_time"),
        ({"name": "Twilight", "start_time": "18:00", "end_time": "18:00"}, "band-end_time"),
    ],
)
def test_bad_shift_bands_are_refused_beside_the_field(
    admin_client: FlaskClient, people: People, session: Session, data: dict[str, str], field: str
) -> None:
    response = post(admin_client, "/admin/shift-bands", **data)
    refused_field(response, field)
    assert f'value="{data["name"]}"' in response.get_data(as_text=True)  # what was typed is kept
    assert audited(session) == []
    assert len(session.scalars(select(ShiftBand)).all()) == 3


def test_retiring_a_band_keeps_it_and_the_last_band_cannot_go(
    admin_client: FlaskClient, people: People, session: Session
) -> None:
    early, late, night = (people.org.bands[name] for name in ("Early", "Late", "Night"))
    assert post(admin_client, f"/admin/shift-bands/{early.id}/retire").status_code == 303
    assert post(admin_client, f"/admin/shift-bands/{late.id}/retire").status_code == 303
    refused_field(post(admin_client, f"/admin/shift-bands/{night.id}/retire"), f"band-{night.id}-retire")

    assert [(a, action, target) for a, action, target, _ in audited(session)] == [
        (people.admin.email, "shift_band.retire", "Early"),
        (people.admin.email, "shift_band.retire", "Late"),
    ]
    bands = {b.name: b.active for b in session.scalars(select(ShiftBand))}
    assert bands == {"Early": False, "Late": False, "Night": True}
    page = admin_client.get("/admin/organisation").get_data(as_text=True)
    assert page.count(">Retired<") == 2


def test_an_unknown_band_is_404(admin_client: FlaskClient, people: People) -> None:
    assert post(admin_client, "/admin/shift-bands/99999/retire").status_code == 404


# --- Reasons ------------------------------------------------------------------------------------------------


def test_reasons_are_added_retired_and_brought_back(
    admin_client: FlaskClient, people: People, session: Session
) -> None:
    assert post(admin_client, "/admin/reason-tags", label="Breaks").status_code == 303
    breaks = session.scalars(select(ReasonTag).where(ReasonTag.label == "Breaks")).one()
    assert post(admin_client, f"/admin/reason-tags/{breaks.id}/retire").status_code == 303
    fresh(session)
    assert "Breaks" not in [t.label for t in structure.list_reason_tags(session)]

    response = post(admin_client, "/admin/reason-tags", label="breaks")
    assert response.location.endswith("done=tag-restored#reason-tags")
    fresh(session)
    assert session.scalars(select(ReasonTag).where(ReasonTag.id == breaks.id)).one().active
    assert len(session.scalars(select(ReasonTag)).all()) == 4  # brought back, not added twice
    assert [(action, target) for _, action, target, _ in audited(session)] == [
        ("reason_tag.create", "Breaks"),
        ("reason_tag.retire", "Breaks"),
        ("reason_tag.restore", "Breaks"),
    ]


@pytest.mark.parametrize("label", ["", "Teamwork", "x" * 81])
def test_bad_reasons_are_refused(
    admin_client: FlaskClient, people: People, session: Session, label: str
) -> None:
    refused_field(post(admin_client, "/admin/reason-tags", label=label), "tag-label")
    assert audited(session) == []


# --- Support links ------------------------------------------------------------------------------------------


def test_support_links_are_added_and_retired(
    admin_client: FlaskClient, people: People, session: Session
) -> None:
    response = post(
        admin_client,
        "/admin/support-links",
        label="Staff wellbeing service",
        url="https://wellbeing.example.nhs.uk/",
        description="Free and confidential",
    )
    assert response.status_code == 303
    link = session.scalars(select(SupportLink)).one()
    assert (link.url, link.description, link.active) == (
        "https://wellbeing.example.nhs.uk/",
        "Free and confidential",
        True,
    )
    assert "Staff wellbeing service" in admin_client.get("/admin/organisation").get_data(as_text=True)

    assert post(admin_client, f"/admin/support-links/{link.id}/retire").status_code == 303
    fresh(session)
    assert structure.list_support_links(session) == []
    assert [(actor, action, target) for actor, action, target, _ in audited(session)] == [
        (people.admin.email, "support_link.create", "Staff wellbeing service"),
        (people.admin.email, "support_link.retire", "Staff wellbeing service"),
    ]
    assert post(admin_client, "/admin/support-links/99999/retire").status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"label": "Help", "url": "javascript:alert(1)"}, "link-url", "must start with https://"),
        ({"label": "Help", "url": "https://"}, "link-url", "Enter the whole address"),
        ({"label": "Help", "url": "https://a.example/ b"}, "link-url", "no spaces"),
        ({"label": "", "url": "https://a.example/"}, "link-label", ""),
        ({"label": "chaplaincy", "url": "tel:01234567890"}, "link-label", "already a support link"),
    ],
)
def test_bad_support_links_are_refused_beside_the_field(
    admin_client: FlaskClient,
    people: People,
    session: Session,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    structure.add_support_link(session, "Chaplaincy", "https://chaplaincy.example.nhs.uk/")
    session.commit()
    response = post(admin_client, "/admin/support-links", description="", **data)
    refused_field(response, field)
    assert message in response.get_data(as_text=True)
    assert [link.label for link in structure.list_support_links(session, include_retired=True)] == [
        "Chaplaincy"
    ]
    assert audited(session) == []


def test_a_retired_support_link_comes_back_with_its_new_address(
    admin_client: FlaskClient, people: People, session: Session
) -> None:
    link = structure.add_support_link(session, "Chaplaincy", "https://old.example.nhs.uk/")
    structure.retire_support_link(session, link.id)
    session.commit()
    response = post(
        admin_client, "/admin/support-links", label="Chaplaincy", url="tel:01234567890", description=""
    )
    assert response.location.endswith("done=link-restored#support-links")
    fresh(session)
    assert [(x.id, x.url, x.active) for x in structure.list_support_links(session)] == [
        (link.id, "tel:01234567890", True)
    ]
    assert [action for _, action, _, _ in audited(session)] == ["support_link.restore"]


# --- k and dashboard access ---------------------------------------------------------------------------------


def test_saving_settings_changes_them_audits_and_confirms(
    admin_client: FlaskClient, people: People, session: Session
) -> None:
    response = post(admin_client, "/admin/settings", k="12", dashboard_access="signed_in")
    assert response.status_code == 303
    page = admin_client.get(response.location).get_data(as_text=True)
    assert f'role="status">Saved. {K_RULE}' in page
    assert "k is now <strong>12</strong>" in page
    assert 'value="signed_in" checked' in page
    fresh(session)
    assert organisation.minimum_group_size(session, default=5) == 12
    assert organisation.dashboard_access(session) == DashboardAccess.SIGNED_IN
    assert audited(session) == [
        (people.admin.email, "settings.minimum_group_size", "k", {"before": 5, "after": 12}),
        (
            people.admin.email,
            "settings.dashboard_access",
            "dashboard",
            {"before": "public", "after": "signed_in"},
        ),
    ]


def test_saving_unchanged_settings_records_nothing(
    admin_client: FlaskClient, people: People, session: Session
) -> None:
    response = post(admin_client, "/admin/settings", k="5", dashboard_access="public")
    assert response.location.endswith("done=settings-unchanged#settings")
    assert audited(session) == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"k": "4", "dashboard_access": "public"}, "k"),
        ({"k": "101", "dashboard_access": "public"}, "k"),
        ({"k": "ten", "dashboard_access": "public"}, "k"),
        ({"k": "", "dashboard_access": "public"}, "k"),
        ({"k": "10", "dashboard_access": "everyone"}, "dashboard_access"),
        ({"k": "10"}, "dashboard_access"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    admin_client: FlaskClient, people: People, session: Session, data: dict[str, str], field: str
) -> None:
    response = post(admin_client, "/admin/settings", **data)
    refused_field(response, field)
    if field == "k":
        assert "k must be a whole number from 5 to 100." in response.get_data(as_text=True)
    fresh(session)
    assert organisation.current_settings(session) is None
    assert audited(session) == []


def test_a_new_k_applies_to_weeks_published_later_and_published_weeks_keep_theirs(
    client: FlaskClient, people: People, session: Session, clock: FakeClock
) -> None:
    earlier, later = dt.date(2026, 11, 2), dt.date(2026, 11, 9)
    org = people.org
    add_week(session, org, earlier, {0: (2, 3, 5, 10), 1: (2, 3, 5, 10)})
    add_week(session, org, later, {0: (2, 3, 5, 10), 1: (2, 3, 5, 10)})
    team_weeks = f"/api/v1/figures/teams/{org.team.id}/weeks"
    span = {"from": earlier.isoformat(), "to": (later + dt.timedelta(days=6)).isoformat()}

    clock.set(dt.datetime(2026, 11, 10, 12, 0, tzinfo=LONDON))  # the earlier week has closed, the later not
    assert [w["green"] for w in client.get(team_weeks, query_string=span).get_json()] == [5]

    sign_in(client, people.admin.email)
    assert post(client, "/admin/settings", k="12", dashboard_access="public").status_code == 303

    clock.set(dt.datetime(2026, 11, 18, 10, 0, tzinfo=LONDON))  # now the later week has closed too
    weeks = client.get(team_weeks, query_string=span).get_json()
    # 10 contributors: shown under the k=5 the earlier week was published with, hidden under the new k=12.
    assert [(w["week_start"], w["green"]) for w in weeks] == [("2026-11-02", 5), ("2026-11-09", None)]
    fresh(session)
    published = {w.week_start: w.k for w in session.scalars(select(PublishedWeek))}
    assert published == {earlier: 5, later: 12}


# --- Who may ------------------------------------------------------------------------------------------------


def routes(people: People, link_id: int) -> list[tuple[str, str, dict[str, str]]]:
    band, tag = people.org.bands["Late"], people.org.tags[0]
    return [
        ("GET", "/admin/organisation", {}),
        ("POST", "/admin/shift-bands", {"name": "Twilight", "start_time": "18:00", "end_time": "02:00"}),
        ("POST", f"/admin/shift-bands/{band.id}/retire", {}),
        ("POST", "/admin/reason-tags", {"label": "Breaks"}),
        ("POST", f"/admin/reason-tags/{tag.id}/retire", {}),
        (
            "POST",
            "/admin/support-links",
            {"label": "Help", "url": "https://help.example/", "description": ""},
        ),
        ("POST", f"/admin/support-links/{link_id}/retire", {}),
        ("POST", "/admin/settings", {"k": "12", "dashboard_access": "signed_in"}),
    ]


@pytest.mark.parametrize(("who", "status"), [("manager", 403), ("anonymous", 401)])
def test_only_administrators_may_use_these_pages(
    client: FlaskClient, people: People, session: Session, who: str, status: int
) -> None:
    link = structure.add_support_link(session, "Chaplaincy", "https://chaplaincy.example.nhs.uk/")
    session.commit()
    if who == "manager":
        sign_in(client, people.manager.email)
    for method, path, data in routes(people, link.id):
        response = client.get(path) if method == "GET" else post(client, path, **data)
        assert response.status_code == status, (method, path)
    fresh(session)
    # Nothing changed; each refusal of a signed-in manager is in the audit log.
    refused = [action for _, action, _, _ in audited(session)]
    assert refused == (["access.refused"] * len(routes(people, link.id)) if who == "manager" else [])
    assert organisation.current_settings(session) is None
    assert all(band.active for band in session.scalars(select(ShiftBand)))
    assert [x.active for x in structure.list_support_links(session, include_retired=True)] == [True]
