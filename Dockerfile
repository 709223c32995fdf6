# syntax=docker/dockerfile:1
# hubpulse: one image for every shape of deployment.
#   Single workspace, Socket Mode, embedded SQLite:  docker run -v hubpulse:/data --env-file .env hubpulse
#   Several HTTP replicas on PostgreSQL:             docker compose up (see compose.yaml)
ARG PYTHON_VERSION=3.11

# Stage 1: build the wheel (templates, migrations and the org registry are package data).
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot/ ./bot/
COPY commands/ ./commands/
COPY templates/ ./templates/
RUN python -m pip wheel --no-deps --wheel-dir /wheels .

# Stage 2: install only the wheel and its dependencies into a slim runtime.
FROM python:${PYTHON_VERSION}-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLBACKEND=Agg
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install /wheels/*.whl \
    && useradd --create-home --uid 10001 --user-group hubpulse \
    && mkdir /data \
    && chown hubpulse:hubpulse /data
USER hubpulse
WORKDIR /home/hubpulse
ENV HUBPULSE_DATABASE_URL=sqlite:////data/hubpulse.db \
    HUBPULSE_PORT=3000 \
    HUBPULSE_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 3000
# python, not curl (slim has none): exits 0 only while GET /healthz answers 200 (HTTP mode).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot.ops.probe"]
CMD ["hubpulse", "serve"]
