#!/usr/bin/env bash
# Entrypoint of the puhui image (see Dockerfile; tini runs it as PID 1's child).
#
#   init                  one-off job of docker-compose.yml's airflow-init service: wait for the
#                         metadata database, `airflow db migrate`, then create or update the
#                         admin user of Airflow's SimpleAuthManager.
#   api-server, scheduler, dag-processor, triggerer, celery ..., db ..., dags ..., (any
#   `airflow` group or command)
#                         run as `airflow <args>`.
#   anything else         run as given (bash, python, puhui, dbt, ...).
#
# The command is exec'd, so SIGTERM from `docker compose stop` reaches Airflow itself (a Celery
# worker then shuts down warm: it stops taking tasks and finishes the ones it runs).
set -euo pipefail

init() {
    echo "puhui init: $(airflow version) at ${AIRFLOW_HOME:-?}"

    echo "puhui init: waiting for the metadata database"
    airflow db check --retry "${PUHUI_INIT_DB_RETRIES:-30}" --retry-delay 2

    echo "puhui init: airflow db migrate"
    airflow db migrate

    # Airflow 3's default auth manager (SimpleAuthManager) takes its users from
    # [core] simple_auth_manager_users ("name:role,...") and their passwords from the JSON file
    # [core] simple_auth_manager_passwords_file, which the api-server fills with random passwords
    # for users it does not find there. Writing the admin's password into that file (a volume the
    # api-server mounts too) is how the admin user is "created".
    local user="${AIRFLOW_ADMIN_USERNAME:-}"
    local file="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-}"
    if [[ -z "${user}" || -z "${file}" ]]; then
        echo "puhui init: AIRFLOW_ADMIN_USERNAME or the passwords file is not set; no admin user made"
    elif [[ -z "${AIRFLOW_ADMIN_PASSWORD:-}" ]]; then
        echo "puhui init: AIRFLOW_ADMIN_PASSWORD is empty; the api-server will generate a password"
        echo "            for '${user}' and print it in its log"
    else
        echo "puhui init: admin user '${user}' (password file ${file})"
        python - "${file}" "${user}" <<'PY'
import json
import os
import sys
from pathlib import Path

path, user = Path(sys.argv[1]), sys.argv[2]
password = os.environ["AIRFLOW_ADMIN_PASSWORD"]
path.parent.mkdir(parents=True, exist_ok=True)
try:
    passwords = json.loads(path.read_text(encoding="utf-8") or "{}")
except FileNotFoundError:
    passwords = {}
if passwords.get(user) == password:
    print(f"puhui init: user '{user}' exists, password unchanged")
else:
    action = "updated" if user in passwords else "created"
    passwords[user] = password
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(passwords) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
    print(f"puhui init: user '{user}' {action}")
PY
    fi

    mkdir -p "${PUHUI_LANDING_DIR:-/opt/puhui/landing}" "${PUHUI_HOME:-/opt/puhui/state}"
    echo "puhui init: done"
}

case "${1:-}" in
    init)
        shift
        init "$@"
        ;;
    "" | -* | api-server | scheduler | dag-processor | triggerer | standalone | kerberos | \
    assets | backfill | celery | config | connections | dags | db | db-manager | jobs | \
    partitions | pools | providers | state-store | tasks | teams | variables | \
    cheat-sheet | info | plugins | rotate-fernet-key | version)
        exec airflow "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
