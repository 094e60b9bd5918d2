"""QR codes as inline SVG, drawn by segno inside Pulse: no outside service ever sees what they encode."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup

QR_QUIET_ZONE = 4  # modules of light margin around the symbol, as ISO/IEC 18004 asks for a QR code


def qr_svg(text: str, title: str) -> Markup:
    """The QR code of `text` as inline SVG.

    No width or height, only a viewBox (omitsize): CSS gives it its size, on screen and on paper, and the
    whole symbol with its quiet zone scales into that size instead of being cropped to it.
    """
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out, kind="svg", border=QR_QUIET_ZONE, omitsize=True, xmldecl=False, svgclass="qr", title=title
    )
    return Markup(out.getvalue().decode())  # noqa: S704 - segno's own SVG, of text Pulse made
