"""The organisation's rating mode (administrators), shown on the organisation settings page: open (the join
code alone) or verified (anonymous tokens for people on the roster). Switching to verified needs a roster for
every active team; the refusal names the teams that lack one."""

from __future__ import annotations

from typing import Any

from flask import request

from pulse.admin import bp
from pulse.admin.forms import FormRefused, read_form, refusal_errors
from pulse.admin.organisation import page_with_errors, show_section
from pulse.admin.security import actor, admin_required
from pulse.models import RatingMode
from pulse.runtime import db_session, local_today
from pulse.schemas.admin import RatingModeForm
from pulse.services.accounts import roster


@bp.post("/rating-mode")
@admin_required
def set_rating_mode() -> Any:
    session = db_session(write=True)
    try:
        data = read_form(RatingModeForm())
        changed = roster.switch_rating_mode(
            session, actor(), RatingMode(data["rating_mode"]), today=local_today()
        )
    except (FormRefused, roster.RosterMissing) as refused:
        errors = refusal_errors(refused)
        return page_with_errors(errors, {"rating_mode": request.form.get("rating_mode", "")})
    return show_section("rating-mode-saved" if changed else "rating-mode-unchanged", "rating-mode")
