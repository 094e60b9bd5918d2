"""What a person sees on the dashboard, read from what Chromium draws: the search box's text can be read, it
finds names from any part of them, no chart offers to send itself to a cloud, a square with too few ratings
is hatched and says so, breadcrumbs lead up and down, week labels fit, and the toolbar covers nothing."""

from __future__ import annotations

import io
import itertools
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.browser.test_dashboard import wait_for_charts
from tests.dashboard.conftest import WEEKS
from tests.factories import Org, add_week, make_org

CLOUD_WORDS = ("share", "cloud", "studio", "plotly")
# The WCAG relative luminance and contrast ratio of two CSS colours, and the colour a box really shows (its
# own background, or the first one behind it that is not transparent).
CONTRAST = """
el => {
  const parse = c => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  let back = el;
  while (back && parse(getComputedStyle(back).backgroundColor).length === 4
         && parse(getComputedStyle(back).backgroundColor)[3] === 0) back = back.parentElement;
  const bg = parse(getComputedStyle(back).backgroundColor).slice(0, 3);
  const text = parse(getComputedStyle(el).color).slice(0, 3);
  const placeholder = parse(getComputedStyle(el, '::placeholder').color).slice(0, 3);
  return {text: ratio(text, bg), placeholder: ratio(placeholder, bg), colour: getComputedStyle(el).color,
          background: getComputedStyle(back).backgroundColor};
}
"""
# Every drawn chart's toolbar buttons, as the browser holds them once a pointer has been over the chart.
TOOLBARS = """
() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => ({
  id: gd.parentElement.id,
  cloud: gd._context.showSendToCloud || gd._context.showEditInChartStudio || gd._context.showLink,
  buttons: [...gd.querySelectorAll('.modebar-btn')].map(b => b.getAttribute('data-title') || ''),
  links: [...gd.querySelectorAll('a[href]')].map(a => a.href),
}))
"""
# The boxes of a chart's parts, relative to the page: its SVG, tick labels, titles and toolbar.
PARTS = """
id => {
  const outer = document.getElementById(id);
  const gd = outer.classList.contains('js-plotly-plot') ? outer : outer.querySelector('.js-plotly-plot');
  const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const texts = sel => [...gd.querySelectorAll(sel)]
    .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
    .map(t => ({text: t.textContent, box: box(t)}));
  return {
    svg: box(gd.querySelector('.main-svg')),
    xticks: texts('.xtick text'),
    titles: texts('.gtitle, .g-xtitle text, .g-ytitle text, .g-y2title text'),
    toolbar: gd.querySelector('.modebar') ? box(gd.querySelector('.modebar')) : null,
  };
}
"""


@pytest.fixture
def org(session) -> Org:  # type: ignore[no-untyped-def]
    """Three closed weeks; team 1 has 3 people in the first (hidden), team 3 never rates (empty)."""
    org = make_org(session, teams=3)
    add_week(session, org, WEEKS[0], {0: (1, 1, 1, 3), 1: (2, 4, 8, 14)})
    add_week(session, org, WEEKS[1], {0: (2, 3, 5, 10), 1: (1, 5, 9, 15)})
    add_week(session, org, WEEKS[2], {0: (4, 4, 4, 12), 1: (3, 3, 9, 15)})
    return org


def overlap(a: list[float], b: list[float]) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_typed_search_text_has_aa_contrast_against_its_box(page: Page, org: Org, viewport: str) -> None:
    page.goto("/dashboard/")
    box = page.get_by_label("Find a department or team")
    before = box.evaluate(CONTRAST)
    assert before["placeholder"] >= 4.5, f"the placeholder: {before}"
    box.fill("Ward")
    typed = box.evaluate(CONTRAST)
    assert typed["text"] >= 4.5, f"the typed text: {typed}"
    box.focus()
    assert box.evaluate(CONTRAST)["text"] >= 4.5, "while typing, with focus"


def test_search_lists_every_name_that_holds_what_was_typed(page: Page, org: Org) -> None:
    page.goto("/dashboard/")
    page.get_by_label("Find a department or team").fill("team")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("3 names match \u201cteam\u201d")
    results = page.get_by_role("region", name="Search results").get_by_role("link")
    expect(results).to_have_text(["Emergency Department / Team 1", "Emergency Department / Team 2",
                                  "Emergency Department / Team 3"])  # fmt: skip
    results.nth(1).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team 2")


def test_a_name_that_matches_nothing_gets_suggestions(page: Page, org: Org) -> None:
    page.goto("/dashboard/go?to=Emergancy")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "No department or team is called \u201cEmergancy\u201d"
    )
    expect(page.get_by_text("Did you mean:")).to_be_visible()
    expect(page.get_by_role("link", name="Emergency Department", exact=True)).to_be_visible()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_no_chart_toolbar_offers_a_cloud_link(page: Page, org: Org, viewport: str) -> None:
    pages = {
        "organisation": "/dashboard/",
        "department": f"/dashboard/department/{org.department.id}",
        "team": f"/dashboard/team/{org.teams[1].id}",
    }
    for kind, path in pages.items():
        page.goto(path)
        wait_for_charts(page, kind)
        for graph in page.locator(".js-plotly-plot").all():
            graph.scroll_into_view_if_needed()
            if viewport == "phone":
                graph.tap(position={"x": 5, "y": 5})
            else:
                graph.hover()
        toolbars = page.evaluate(TOOLBARS)
        assert len(toolbars) == {"organisation": 6, "department": 4, "team": 1}[kind]
        for chart in toolbars:
            assert chart["buttons"], f"{chart['id']}: the toolbar was drawn"
            assert "Download plot as a PNG" in chart["buttons"]
            offered = [b for b in chart["buttons"] if any(w in b.lower() for w in CLOUD_WORDS)]
            assert offered == [] and not chart["cloud"], f"{kind}, {chart['id']}: {offered}"
            assert chart["links"] == [], f"{chart['id']} links out: {chart['links']}"


def cell_box(page: Page, graph_id: str, week: str, team: str) -> dict[str, float]:
    """Where a heatmap square is drawn on the page, from the chart's own axes."""
    return page.evaluate(
        """([id, week, team]) => {
            const gd = document.querySelector('#' + id + ' .js-plotly-plot');
            const L = gd._fullLayout, x = L.xaxis, y = L.yaxis;
            const svg = gd.querySelector('.main-svg').getBoundingClientRect();
            const cx = svg.left + L._size.l + x.d2p(week), cy = svg.top + L._size.t + y.d2p(team);
            const w = Math.abs(x.d2p(x._categories[1]) - x.d2p(x._categories[0]));
            const h = Math.abs(y.d2p(y._categories[1]) - y.d2p(y._categories[0]));
            return {x: cx, y: cy, w: w, h: h};
        }""",
        [graph_id, week, team],
    )


def pixels(image: Image.Image, box: dict[str, float], scale: float) -> list[tuple[int, int, int]]:
    """The colours inside the middle two thirds of a square."""
    left, top = (box["x"] - box["w"] / 3) * scale, (box["y"] - box["h"] / 3) * scale
    right, bottom = (box["x"] + box["w"] / 3) * scale, (box["y"] + box["h"] / 3) * scale
    inside = image.convert("RGB").crop((round(left), round(top), round(right), round(bottom)))
    loaded = inside.load()
    assert loaded is not None
    return [loaded[x, y] for y in range(inside.height) for x in range(inside.width)]  # type: ignore[misc]


def mean(colours: list[tuple[int, int, int]]) -> tuple[float, ...]:
    return tuple(sum(c[i] for c in colours) / len(colours) for i in range(3))


def dark_share(colours: list[tuple[int, int, int]]) -> float:
    return sum(1 for c in colours if sum(c) < 400) / len(colours)


def test_a_hidden_heatmap_square_is_hatched_and_says_why(page: Page, org: Org) -> None:
    page.goto(f"/dashboard/department/{org.department.id}")
    wait_for_charts(page, "department")
    page.locator("#dept-teams-graph").scroll_into_view_if_needed()
    hidden = cell_box(page, "dept-teams-graph", "2026-10-26", "Team 1")  # 3 people that week
    shown = cell_box(page, "dept-teams-graph", "2026-11-02", "Team 1")
    empty = cell_box(page, "dept-teams-graph", "2026-11-02", "Team 3")  # nobody rated, ever
    image = Image.open(io.BytesIO(page.screenshot()))
    scale = image.width / page.viewport_size["width"]
    hatched, blank = pixels(image, hidden, scale), pixels(image, empty, scale)
    assert len(set(hatched)) > 2 and min(sum(p) for p in hatched) < 300, "a pattern, with dark stripes"
    assert len(set(pixels(image, shown, scale))) <= 2, "a shown square is one flat colour"
    # Hidden looks exactly like empty: the same pattern, give or take where its stripes fall in the square.
    assert all(abs(a - b) < 6 for a, b in zip(mean(hatched), mean(blank), strict=True)), "hidden like empty"
    assert dark_share(blank) == pytest.approx(dark_share(hatched), abs=0.05)
    page.mouse.move(hidden["x"], hidden["y"])
    hover = page.locator("#dept-teams-graph .hoverlayer")
    expect(hover).to_contain_text("Team 1, w/c 26 Oct 2026 (2026-W44): not shown: too few ratings")
    page.mouse.move(empty["x"], empty["y"])
    expect(hover).to_contain_text("Team 3, w/c 2 Nov 2026 (2026-W45): not shown: too few ratings")


def test_breadcrumbs_lead_down_to_a_team_and_back_up(page: Page, org: Org) -> None:
    page.goto("/dashboard/")
    departments = page.get_by_role("region", name="Departments")
    departments.get_by_role("link", name="Emergency Department").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Emergency Department")
    trail = page.get_by_role("navigation", name="Breadcrumb")
    expect(trail.get_by_role("link")).to_have_text(["Whole organisation"])
    expect(trail.locator("[aria-current=page]")).to_have_text("Emergency Department")
    page.get_by_role("region", name="Teams in Emergency Department").get_by_role(
        "link", name="Team 2"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team 2")
    expect(page).to_have_url(f"{page.url.split('/dashboard/')[0]}/dashboard/team/{org.teams[1].id}")
    expect(trail.get_by_role("link")).to_have_text(["Whole organisation", "Emergency Department"])
    expect(trail.locator("[aria-current=page]")).to_have_text("Team 2")
    trail.get_by_role("link", name="Emergency Department").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Emergency Department")
    trail.get_by_role("link", name="Whole organisation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff morale across the organisation")


def chart_ids(page: Page) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')].map(g => g.parentElement.id)"
    )


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_week_labels_fit_and_read_week_commencing(
    page: Page, org: Org, session: Session, viewport: str
) -> None:
    for team, name in zip(
        org.teams, ["Same Day Emergency Care", "Ward 9 (Care of the Elderly)"], strict=False
    ):
        session.merge(team).name = name  # long names, as real wards have: they must not squeeze the chart
    session.commit()
    for kind, path in (
        ("organisation", "/dashboard/?weeks=all"),
        ("department", f"/dashboard/department/{org.department.id}"),
    ):
        page.goto(path)
        wait_for_charts(page, kind)
        for graph_id in chart_ids(page):
            parts: dict[str, Any] = page.evaluate(PARTS, graph_id)
            svg, ticks = parts["svg"], parts["xticks"]
            for tick in ticks:
                left, _, right, bottom = tick["box"]
                assert left >= svg[0] - 0.5 and right <= svg[2] + 0.5, f"{graph_id}: {tick['text']!r} clipped"
                assert bottom <= svg[3] + 0.5, f"{graph_id}: {tick['text']!r} cut off at the foot"
            for a, b in itertools.pairwise(ticks):
                assert not overlap(a["box"], b["box"]), f"{graph_id}: {a['text']!r} runs into {b['text']!r}"
            if graph_id in ("org-trend-graph", "org-spc-graph", "dept-trend-graph", "dept-teams-graph"):
                assert ticks and all(t["text"].startswith("w/c") for t in ticks), f"{graph_id}: {ticks}"


@pytest.mark.parametrize("viewport", ["phone"])
def test_the_toolbar_covers_no_title_on_a_phone(page: Page, org: Org, viewport: str) -> None:
    page.goto("/dashboard/")
    wait_for_charts(page, "organisation")
    for graph_id in chart_ids(page):
        graph = page.locator(f"#{graph_id} .js-plotly-plot")
        graph.scroll_into_view_if_needed()
        graph.tap(position={"x": 5, "y": 5})
        parts = page.evaluate(PARTS, graph_id)
        assert parts["toolbar"] is not None, f"{graph_id}: the toolbar shows on a tap"
        for title in parts["titles"]:
            assert not overlap(parts["toolbar"], title["box"]), (
                f"{graph_id}: the toolbar covers {title['text']!r}"
            )


def test_funnel_dots_are_labelled_and_the_organisation_line_is_in_the_legend(page: Page, org: Org) -> None:
    page.goto("/dashboard/")
    wait_for_charts(page, "organisation")
    funnel = page.locator("#org-departments-graph")
    expect(funnel.locator(".scatterlayer .textpoint")).to_have_text(["Emergency Department"])
    expect(funnel.locator(".legendtext", has_text="Organisation")).to_have_count(1)
    expect(funnel.locator(".annotation")).to_have_count(0)


def test_a_range_switch_redraws_in_place(page: Page, org: Org) -> None:
    page.goto(f"/dashboard/department/{org.department.id}?weeks=all")
    wait_for_charts(page, "department")
    page.evaluate("() => { window.stillHere = true; }")
    page.get_by_role("link", name="12 weeks").click()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?weeks=12")
    weeks = page.get_by_role("navigation", name="Weeks shown")
    expect(weeks.locator("[aria-current=page]")).to_have_text("12 weeks")
    wait_for_charts(page, "department")
    assert page.evaluate("() => window.stillHere") is True, "no page reload: only the figures came"


def test_every_colour_of_a_week_is_drawn(page: Page, org: Org) -> None:
    """The bars' colours as drawn, patterns and all (a pattern with a transparent ground once hid them)."""
    page.goto("/dashboard/")
    wait_for_charts(page, "organisation")
    image = Image.open(io.BytesIO(page.locator("#org-week-graph").screenshot())).convert("RGB")
    loaded = image.load()
    assert loaded is not None
    seen = {loaded[x, y] for y in range(image.height) for x in range(image.width)}  # type: ignore[misc]
    for colour, hex_colour in {"green": "#009E73", "amber": "#E69F00", "red": "#A6361C"}.items():
        wanted = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert any(sum(abs(a - b) for a, b in zip(c, wanted, strict=True)) < 30 for c in seen), colour
