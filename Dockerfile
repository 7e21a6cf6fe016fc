# Jetrack in a container: the bundles built with Node.js, the wheel built from them, and a
# slim Python image with only the wheel and its dependencies (no Node.js at run time).
# docs/deployment.md, "Containers". Build: docker build -t jetrack .

FROM node:22-bookworm-slim AS bundles
WORKDIR /src
COPY package.json package-lock.json ./
COPY frontend/package.json frontend/package-lock.json frontend/
RUN npm ci --no-audit --no-fund --loglevel=error \
 && npm --prefix frontend ci --no-audit --no-fund --loglevel=error
COPY tracker tracker
COPY frontend frontend
# The dashboard's TypeScript types are generated from the Stats API's schema.
COPY src/jetrack/stats/query-schema.json src/jetrack/stats/query-schema.json
RUN npm run --silent build && npm --prefix frontend run --silent build

FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY src src
COPY --from=bundles /src/src/jetrack/static/build src/jetrack/static/build
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
COPY requirements.lock /tmp/requirements.lock
COPY --from=wheel /wheels /tmp/wheels
# The lock file pins the dependencies' versions (as constraints: its test tools are not installed).
RUN pip install --no-cache-dir -c /tmp/requirements.lock /tmp/wheels/jetrack-*.whl \
 && rm -rf /tmp/wheels /tmp/requirements.lock \
 && useradd --system --uid 10001 --home-dir /var/lib/jetrack --create-home jetrack
USER jetrack
ENV JETRACK_DATA_DIR=/var/lib/jetrack/data \
    JETRACK_HOST=0.0.0.0 \
    JETRACK_PORT=8000 \
    PYTHONUNBUFFERED=1
VOLUME /var/lib/jetrack
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status != 200)"]
CMD ["jetrack", "serve"]
