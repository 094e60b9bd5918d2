"""What the staff pages carry for verified rating: the rating mode, and for a phone's tokens the weeks it may
fetch and the timeline of open shift slots (so that, offline too, it spends the right slot's token)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from pulse.models import RatingMode
from pulse.runtime import runtime
from pulse.services.organisation import rating_mode
from pulse.services.shift_timeline import timeline_for_tokens, token_weeks
from pulse.services.structure import list_shift_bands

# The API's addresses, for the pages' scripts (the token endpoints answer only in verified mode).
KEYS_ENDPOINT = "/api/v1/token-keys"
TOKENS_ENDPOINT = "/api/v1/tokens"


def is_verified(session: Session) -> bool:
    return rating_mode(session) == RatingMode.VERIFIED


def token_page_data(session: Session) -> dict[str, Any]:
    """For data attributes: the weeks whose keys are published now ("2026-11-16 2026-11-23"), and the open
    slot from now to the end of next week as JSON, [{date, band_id, band, from, until}] (ms since the epoch,
    which the page's clock reads)."""
    rt = runtime()
    settings = rt.settings
    now = rt.now()
    grace = settings.grace
    spans = timeline_for_tokens(list_shift_bands(session), now, settings.tz, grace)
    slots = [
        {
            "date": span.shift_date.isoformat(),
            "band_id": span.band_id,
            "band": span.band_name,
            "from": int(span.starts.timestamp() * 1000),
            "until": int(span.ends.timestamp() * 1000),
        }
        for span in spans
    ]
    return {
        "weeks": " ".join(week.isoformat() for week in token_weeks(now, settings.tz)),
        "slots": json.dumps(slots, separators=(",", ":")),
        "keys_endpoint": KEYS_ENDPOINT,
        "tokens_endpoint": TOKENS_ENDPOINT,
    }
