"""The rules of Pulse as plain functions taking a session. No Flask; callers commit."""
