FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=portal.settings.production
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    python manage.py collectstatic --no-input \
 && useradd --uid 1000 --create-home portal && mkdir -p /data/uploads && chown -R portal /data
USER portal
EXPOSE 8000
# --timeout 60: the longest request still served synchronously (a 20,000-row CSV export) takes
# seconds; anything longer runs as a background job. docs/deployment.md, "Worker timeout".
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
