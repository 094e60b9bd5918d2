# Pulse, for docker-compose.yml: the same image runs the migrations (alembic upgrade head) and the web server.

# Build stage: install Pulse and gunicorn into /install, so the source tree never reaches the final image.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY pulse ./pulse
COPY dashboard ./dashboard
COPY alembic ./alembic
RUN pip install --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PULSE_ENV=production \
    PULSE_HOST=0.0.0.0 \
    PULSE_PORT=8050
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin pulse
WORKDIR /app
# alembic.ini finds its scripts beside it (%(here)s/alembic); gunicorn.conf.py holds the server settings.
COPY alembic.ini gunicorn.conf.py ./
COPY alembic ./alembic
USER pulse
EXPOSE 8050
CMD ["gunicorn", "--config", "gunicorn.conf.py", "pulse.wsgi:app"]
