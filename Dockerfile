# One image for every portal service of docker-compose.yml (web, migrate, worker, beat, mail
# listener, demo): the dependencies come from uv.lock, hash-checked, exactly as scripts/run and
# scripts/test install them.
FROM python:3.11.10-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=portal.settings.production
WORKDIR /app
# The pinned uv (hashes checked), then the locked dependencies: these layers change only with the lock.
COPY scripts/uv-requirements.txt scripts/
RUN pip install --no-cache-dir --require-hashes --only-binary=:all: -r scripts/uv-requirements.txt
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-cache --python /usr/local/bin/python3.11
COPY . .
# collectstatic reads settings but connects to nothing; production settings want every variable.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    DJANGO_ALLOWED_HOSTS=localhost SITE_URL=http://localhost \
    python manage.py collectstatic --no-input \
 && useradd --uid 1000 --create-home portal && mkdir -p /data/uploads && chown -R portal /data
USER portal
EXPOSE 8000
# The web server. Its options live here only (compose's web service runs this command).
# --timeout 60: the longest request still served synchronously (a CSV export of at most
# EXPORT_STREAM_MAX_ROWS = 20,000 rows) takes seconds; larger exports run as background jobs
# and API lists are paged. docs/deployment.md, "Worker timeout", says why 60.
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
