"""The staff-facing pages: the rating page and kiosk (server-rendered)."""
