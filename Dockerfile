# BizValue: one image for web (gunicorn), Celery worker, Celery beat and migrations.
# See docs/deployment.md; compose.yaml shows the services wired together.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BIZVALUE_VAR_DIR=/var/lib/bizvalue \
    STATIC_ROOT=/app/staticfiles \
    GUNICORN_BIND=0.0.0.0:8000

# WeasyPrint (PDF reports) needs Pango; libpq is bundled by psycopg[binary].
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings, not secrets: a throwaway key for this step only.
RUN DEBUG=0 SECRET_KEY=collectstatic-only-$(head -c 48 /dev/urandom | base64 | tr -d '\n') \
    FIELD_ENCRYPTION_KEYS=build:$(head -c 32 /dev/urandom | base64) \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /var/lib/bizvalue bizvalue \
    && mkdir -p /var/lib/bizvalue && chown bizvalue /var/lib/bizvalue
USER bizvalue

EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "bizvalue.wsgi"]
