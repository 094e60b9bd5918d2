"""The ward poster as people meet it: its QR code is read from what Chromium draws, on a phone, on a desktop
and on the printed A4 page (print-to-PDF), never from the image Pulse generated. A 4-module quiet zone
surrounds it and, printed, it is at least 4 cm wide."""

from __future__ import annotations

import io

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from tests.factories import Org, make_org

QUIET_ZONE_MODULES = 4
PRINT_DPI = 200
MIN_PRINTED_CM = 4.0


@pytest.fixture
def org(session) -> Org:  # type: ignore[no-untyped-def]
    return make_org(session)


def read_qr(image: Image.Image) -> zxingcpp.Barcode:
    """The one QR code in the image, as a phone's reader would find it."""
    found = [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1, f"expected one readable QR code in the image, found {len(found)}"
    return found[0]


def symbol_box(code: zxingcpp.Barcode) -> tuple[float, float, float, float]:
    corners = [code.position.top_left, code.position.top_right, code.position.bottom_right]
    corners.append(code.position.bottom_left)
    xs, ys = [p.x for p in corners], [p.y for p in corners]
    return min(xs), min(ys), max(xs), max(ys)


def assert_quiet_zone(image: Image.Image, code: zxingcpp.Barcode) -> float:
    """Every pixel within 4 modules of the symbol is light; returns the symbol's width in pixels.

    A pixel of edge is allowed on each side for anti-aliasing, of the symbol and of the zone's outer edge.
    """
    modules = 17 + 4 * int(code.extra["Version"])
    left, top, right, bottom = symbol_box(code)
    margin = QUIET_ZONE_MODULES * (right - left) / modules
    outer = (
        round(left - margin) + 1,
        round(top - margin) + 1,
        round(right + margin) - 1,
        round(bottom + margin) - 1,
    )
    inner = (round(left) - 2, round(top) - 2, round(right) + 2, round(bottom) + 2)
    assert outer[0] >= 0 and outer[1] >= 0, "the quiet zone lies inside the picture"
    assert outer[2] <= image.width and outer[3] <= image.height, "the quiet zone lies inside the picture"
    pixels = image.convert("L").load()
    assert pixels is not None
    darkest = min(
        pixels[x, y]
        for y in range(outer[1], outer[3])
        for x in range(outer[0], outer[2])
        if not (inner[0] <= x < inner[2] and inner[1] <= y < inner[3])
    )
    assert darkest > 200, f"a dark pixel ({darkest}) within {QUIET_ZONE_MODULES} modules of the QR code"
    return right - left


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_poster_qr_code_scans_from_the_rendered_page(page: Page, org: Org, viewport: str) -> None:
    page.goto(f"/r/{org.team.join_code}/poster")
    link = page.locator(".poster-link")
    expect(link).to_have_text(f"{page.url.split('/r/')[0]}/r/{org.team.join_code}")
    qr = page.locator(".poster-qr svg")
    box = qr.bounding_box()
    assert box is not None
    assert abs(box["width"] - box["height"]) < 1, "the QR code keeps its square shape"
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], "all of it on screen"
    image = Image.open(io.BytesIO(page.screenshot(full_page=True)))
    code = read_qr(image)
    assert code.text == link.text_content()
    assert_quiet_zone(image, code)
    view_box = page.evaluate("el => el.viewBox.baseVal && el.viewBox.baseVal.width", qr.element_handle())
    assert view_box, "sized by its viewBox, so CSS scales it rather than cropping it"


def test_the_printed_poster_qr_code_scans_and_is_at_least_4_cm(page: Page, org: Org) -> None:
    page.goto(f"/r/{org.team.join_code}/poster")
    link = page.locator(".poster-link").text_content()
    pdf = pypdfium2.PdfDocument(page.pdf(format="A4", print_background=True))
    try:
        assert len(pdf) == 1, "the poster fits on one A4 page"
        image = pdf[0].render(scale=PRINT_DPI / 72).to_pil()
    finally:
        pdf.close()
    code = read_qr(image)
    assert code.text == link
    width_px = assert_quiet_zone(image, code)
    printed_cm = width_px / PRINT_DPI * 2.54
    assert printed_cm >= MIN_PRINTED_CM, f"the printed QR code is {printed_cm:.1f} cm wide"
