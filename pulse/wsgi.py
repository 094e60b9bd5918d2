"""The WSGI entry point for gunicorn: gunicorn 'pulse.wsgi:app'."""

from pulse import create_app

app = create_app()
