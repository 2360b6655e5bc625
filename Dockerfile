# One image for web, worker, beat and the one-shot migrate; docker-compose.yml picks the command,
# and without one the image serves the web (CMD below). .dockerignore keeps secrets and local state out.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=prod
WORKDIR /app

# Pango and CJK fonts for the white paper's PDF (WeasyPrint).
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml ./
COPY config ./config
COPY crm ./crm
COPY policies ./policies
COPY matching ./matching
COPY workers ./workers
COPY ops ./ops
COPY locale ./locale
COPY manage.py gunicorn.conf.py ./
RUN pip install --no-cache-dir . \
 && SECRET_KEY=build ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.db REDIS_URL=redis://build:6379/0 \
    python manage.py collectstatic --noinput

# The migrate service, as `app`, copies staticfiles/ into the `static` volume the proxy serves: a new
# named volume takes this mount point's owner.
RUN useradd --create-home app && mkdir -p /srv/static && chown app /srv/static
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", \
     "--access-logfile", "-"]
