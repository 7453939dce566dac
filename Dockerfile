# syntax=docker/dockerfile:1
# The puhui image: Airflow 3.3 (api-server, scheduler, dag-processor, triggerer, Celery worker),
# dbt and the puhui package in one image. docker-compose.yml builds it once (`build: .`) and
# every Airflow service runs it; the command picks the component (docker/airflow-entrypoint.sh).
#
# No secret goes into the image: configuration arrives as PUHUI_* / AIRFLOW__* variables at
# run time, and .dockerignore keeps .env, .venv and local state out of the build context.
FROM python:3.11-slim-bookworm

# curl: the healthchecks in docker-compose.yml. tini: PID 1, reaps the processes Airflow forks
# for every task and passes SIGTERM on, so a Celery worker shuts down warm. Debian's versions are
# not pinned: the archive drops superseded ones, and bookworm's updates are security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl tini \
    && rm -rf /var/lib/apt/lists/*

# Non-root user that runs everything. The uid matches the official Airflow image's (50000),
# so volumes moved over from such a deployment keep working.
ARG PUHUI_UID=50000
RUN groupadd --gid "${PUHUI_UID}" puhui \
    && useradd --uid "${PUHUI_UID}" --gid puhui --create-home --shell /bin/bash puhui

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    AIRFLOW_HOME=/opt/airflow \
    PUHUI_AIRFLOW_HOME=/opt/airflow \
    PUHUI_HOME=/opt/puhui/state \
    PUHUI_LANDING_DIR=/opt/puhui/landing \
    PYTHONPATH=/opt/puhui/plugins:/opt/puhui \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False

WORKDIR /opt/puhui

# Dependencies first, so a code change does not reinstall them. requirements.lock pins every
# distribution with its hashes (uv pip compile --generate-hashes), so pip installs it in
# hash-checking mode. A recent pip is needed: older ones (23.x) refuse a pinned package that
# another one requires with an extra (mashumaro[msgpack]) in that mode.
COPY requirements.lock ./
RUN pip install --no-cache-dir "pip==26.3" \
    && pip install --no-cache-dir -r requirements.lock

# The project itself. Editable, so that `puhui` is imported from /opt/puhui/plugins/puhui (the
# folder Airflow also puts on sys.path) and puhui.config finds the project root (dags/,
# dbt_project/) next to it.
COPY pyproject.toml README.md ./
COPY plugins/ plugins/
COPY schemas/ schemas/
RUN pip install --no-cache-dir --no-deps -e . \
    && puhui --help >/dev/null

COPY dags/ dags/
COPY dbt_project/ dbt_project/
COPY docker/airflow-entrypoint.sh /usr/local/bin/airflow-entrypoint

# Folders the user writes to. Named volumes mounted on them start out with this ownership.
#   /opt/puhui/landing  source-system files (PUHUI_LANDING_DIR), shared by all Airflow services
#   /opt/puhui/state    run-time state (PUHUI_HOME): dbt target and logs, ...
#   /opt/airflow        AIRFLOW_HOME: airflow.cfg, logs/ (task logs), auth/ (admin password file)
RUN chmod 0755 /usr/local/bin/airflow-entrypoint \
    && mkdir -p /opt/puhui/landing /opt/puhui/state /opt/airflow/logs /opt/airflow/auth \
    && chown -R puhui:puhui /opt/puhui/landing /opt/puhui/state /opt/airflow

USER ${PUHUI_UID}:${PUHUI_UID}

# api-server; Celery worker log server; scheduler health check.
EXPOSE 8080 8793 8974

ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/airflow-entrypoint"]
CMD ["version"]
