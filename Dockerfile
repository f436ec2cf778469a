# OpenIOP web and worker image (docs/deploy.md). One image, two commands:
#   web:    gunicorn -c deploy/gunicorn.conf.py openiop.wsgi
#   worker: openiop worker
# Note: this Dockerfile has not been built in the project's own CI (no container engine
# there); CI runs the same commands directly on the machine (see docs/deploy.md).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=openiop.settings \
    OPENIOP_ENV=production \
    OPENIOP_VAR_DIR=/var/lib/openiop \
    GUNICORN_BIND=0.0.0.0:8000

# pg_dump/pg_restore for backups, tini to pass signals to gunicorn and the worker.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /srv/openiop openiop \
 && mkdir -p /var/lib/openiop && chown openiop /var/lib/openiop

WORKDIR /srv/openiop/app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY pyproject.toml README.md ./
COPY src ./src
COPY deploy ./deploy
RUN pip install --no-deps . \
 && SECRET_KEY=build-only-build-only-build-only-build-only ALLOWED_HOSTS=build \
    DATABASE_URL=postgres://build@localhost/build OPENIOP_ENV=production \
    python -m django collectstatic --noinput

USER openiop
EXPOSE 8000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "openiop.wsgi"]
