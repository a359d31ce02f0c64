# backaudit: one image for the web app. Run with a volume for the SQLite file, or DATABASE_URL
# pointing at PostgreSQL (then run `backaudit db upgrade` once before starting).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Pango, HarfBuzz's subsetter (WeasyPrint 70 warns without it) and a font for the result's PDF; without them the PDF link says it cannot
# make one, and everything else works.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 backaudit && mkdir /data && chown backaudit /data

COPY pyproject.toml README.md constraints.txt ./
COPY app ./app
# The versions the tests run on (constraints.txt says why they are pinned).
RUN pip install -c constraints.txt .
COPY migrations ./migrations
COPY questionnaires ./questionnaires

USER backaudit
ENV ENVIRONMENT=production \
    DATABASE_URL=sqlite:////data/backaudit.db
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
# SECRET_KEY must be given at run time (docker run -e SECRET_KEY=...); the app refuses to start without it.
CMD ["backaudit", "serve", "--host", "0.0.0.0", "--port", "8000"]
