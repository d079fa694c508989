"""docker-compose.yml: valid for docker-compose 1.29 (what Debian ships and CI installs), and shaped right.

There is no Docker engine here: `docker-compose config` validates and interpolates the file without one.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.deploy.helpers import BACKEND_DIR, REPO_DIR, require_binary

COMPOSE_FILE = REPO_DIR / "docker-compose.yml"
LOCAL_BASES = REPO_DIR / "docker-compose.local-bases.yml"
# Every base image is a build argument whose default is the official image (scripts/compose-smoke.sh builds
# the same Dockerfiles on local bases where no registry is reachable).
OFFICIAL_BASES = {
    BACKEND_DIR / "Dockerfile": {"PYTHON_IMAGE": "python:3.11-slim"},
    REPO_DIR / "frontend" / "Dockerfile": {
        "NODE_IMAGE": "node:20-bookworm-slim",
        "NGINX_IMAGE": "nginxinc/nginx-unprivileged:1.27-alpine",
    },
}
ENV_EXAMPLE = REPO_DIR / ".env.example"
# Set only inside the containers (not user settings, so not in .env.example): documented in docs/deploy.md.
CONTAINER_ONLY = {"MIGRATE_ON_START", "WEB_CONCURRENCY", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}
SERVICES = {"db", "redis", "backend", "backend2", "api", "reconcile", "sandbox", "frontend", "mailpit"}
API_NGINX_CONF = REPO_DIR / "deploy" / "nginx" / "api.conf"


def env_example_names() -> set[str]:
    names = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line.strip())
        if match:
            names.add(match.group(1))
    return names


def compose_config(tmp_path: Path, dotenv: str = "", *extra_files: Path) -> dict[str, Any]:
    """`docker-compose config` output, interpolated from `dotenv` only (never the caller's .env/shell)."""
    binary = require_binary("docker-compose")
    env_file = tmp_path / "compose.env"
    env_file.write_text(dotenv)
    names = env_example_names()
    env = {k: v for k, v in os.environ.items() if k not in names}
    base = [binary, "--env-file", str(env_file), "-f", str(COMPOSE_FILE)]
    for extra in extra_files:
        base += ["-f", str(extra)]
    check = subprocess.run([*base, "config", "-q"], capture_output=True, text=True, env=env, check=False)
    assert check.returncode == 0, f"docker-compose config -q failed:\n{check.stderr}"
    out = subprocess.run([*base, "config"], capture_output=True, text=True, env=env, check=True)
    config: dict[str, Any] = yaml.safe_load(out.stdout)
    return config


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return compose_config(tmp_path_factory.mktemp("compose"))


def test_compose_file_is_valid_and_has_every_service(config: dict[str, Any]) -> None:
    assert set(config["services"]) == SERVICES


def test_every_service_has_a_healthcheck(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        test = service.get("healthcheck", {}).get("test")
        assert test, f"service {name} has no healthcheck"
        assert not service["healthcheck"].get("disable"), name


def test_db_is_postgres_16_with_a_named_volume(config: dict[str, Any]) -> None:
    db = config["services"]["db"]
    assert db["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0]
    source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
    assert source in config["volumes"]


def test_backend_runs_gunicorn_through_the_start_script_after_a_healthy_db(config: dict[str, Any]) -> None:
    backend = config["services"]["backend"]
    assert backend["command"] == ["bash", "scripts/start-backend.sh"]
    script = (BACKEND_DIR / "scripts" / "start-backend.sh").read_text()
    assert 'exec "$PY" -m gunicorn config.wsgi -c gunicorn.conf.py' in script
    assert "runserver" not in script
    assert backend["depends_on"]["db"]["condition"] == "service_healthy"
    env = backend["environment"]
    assert env["MIGRATE_ON_START"] == "1"
    assert env["DJANGO_DEBUG"] == "0"
    assert env["DJANGO_SECURE_SSL_REDIRECT"] == "0"
    assert env["PAYMENTS_LIVE_MODE"] == "0"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@db:5432/" in env["DATABASE_URL"]
    assert {"localhost", "127.0.0.1", "api", "backend", "backend2"} <= set(
        env["DJANGO_ALLOWED_HOSTS"].split(",")
    )
    assert "http://localhost:5173" in env["CORS_ALLOWED_ORIGINS"].split(",")
    assert env["FRONTEND_BASE_URL"] == "http://localhost:5173"
    assert env["STRIPE_API_BASE"] == "http://sandbox:8100/stripe"
    assert env["TRUEMED_API_BASE"] == "http://sandbox:8100/truemed"
    assert env["DJANGO_SECRET_KEY"].startswith("demo-only-")
    assert len(env["DJANGO_SECRET_KEY"]) >= 50
    assert "/api/ready/" in " ".join(backend["healthcheck"]["test"])
    assert not _ports(backend)  # reached through the `api` nginx only


def test_two_replicas_share_redis_behind_nginx_and_only_the_first_migrates(config: dict[str, Any]) -> None:
    services = config["services"]
    first, second = services["backend"], services["backend2"]
    for key in ("image", "build", "command", "healthcheck"):
        assert first[key] == second[key], key
    assert first["environment"]["MIGRATE_ON_START"] == "1"
    assert second["environment"]["MIGRATE_ON_START"] == "0"
    assert second["depends_on"]["backend"]["condition"] == "service_healthy"  # migrated before it starts
    assert not _ports(second)
    names = {first["environment"]["BACKEND_REPLICA_NAME"], second["environment"]["BACKEND_REPLICA_NAME"]}
    assert names == {"backend", "backend2"}
    for service in (first, second, services["reconcile"]):
        env = service["environment"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["CACHE_URL"] == ""
        assert env["TRUSTED_PROXY_COUNT"] == "1"  # nginx sets X-Forwarded-For to the client it saw
        assert {k: v for k, v in env.items() if k not in {"MIGRATE_ON_START", "BACKEND_REPLICA_NAME"}} == {
            k: v
            for k, v in first["environment"].items()
            if k in env and k not in {"MIGRATE_ON_START", "BACKEND_REPLICA_NAME"}
        }
    assert first["depends_on"]["redis"]["condition"] == "service_healthy"
    redis_service = services["redis"]
    assert redis_service["image"].startswith("redis:7")
    assert "redis-cli" in redis_service["healthcheck"]["test"]
    assert not _ports(redis_service)
    api = services["api"]
    assert api["image"] == "nginxinc/nginx-unprivileged:1.27-alpine"
    assert "8000:8080" in _ports(api)
    assert {name for name, dep in api["depends_on"].items() if dep["condition"] == "service_healthy"} == {
        "backend",
        "backend2",
    }
    volume = api["volumes"][0]
    source, target = (
        (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")[:2]
    )
    assert Path(source) == API_NGINX_CONF
    assert target == "/etc/nginx/conf.d/default.conf"
    conf = API_NGINX_CONF.read_text()
    assert "server backend:8000" in conf
    assert "server backend2:8000" in conf
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # overwritten, never appended
    assert "non_idempotent" not in conf  # a POST is never resent to the other replica


def test_sandbox_and_frontend_ports_and_wiring(config: dict[str, Any]) -> None:
    services = config["services"]
    sandbox = services["sandbox"]
    assert sandbox["command"] == ["bash", "scripts/start-sandbox.sh"]
    assert sandbox["environment"]["SANDBOX_HOST"] == "0.0.0.0"  # noqa: S104 - inside the container
    assert sandbox["environment"]["SANDBOX_PUBLIC_URL"] == "http://localhost:8100"
    assert sandbox["environment"]["SANDBOX_STRIPE_WEBHOOK_URL"] == "http://api:8080/api/webhooks/stripe/"
    assert sandbox["environment"]["SANDBOX_TRUEMED_WEBHOOK_URL"] == "http://api:8080/api/webhooks/truemed/"
    assert "/_sandbox/health" in " ".join(sandbox["healthcheck"]["test"])
    assert "8100:8100" in _ports(sandbox)
    frontend = services["frontend"]
    assert frontend["build"]["args"]["VITE_API_BASE_URL"] == "http://localhost:8000"
    assert "5173:8080" in _ports(frontend)
    reconcile = services["reconcile"]
    assert "payments_reconcile" in " ".join(reconcile["command"])
    assert reconcile["depends_on"]["backend"]["condition"] == "service_healthy"


def test_a_dotenv_with_real_keys_switches_providers(tmp_path: Path) -> None:
    dotenv = (
        "STRIPE_SECRET_KEY=sk_test_realaccount\nSTRIPE_WEBHOOK_SECRET=whsec_real\n"
        "STRIPE_API_BASE=https://api.stripe.com\nTRUEMED_API_BASE=https://dev-api.truemed.com\n"
        "TRUEMED_API_KEY=tm_real\nTRUEMED_WEBHOOK_SECRET=tm_real_whsec\nDJANGO_SECRET_KEY=a-real-one\n"
        "DJANGO_ALLOWED_HOSTS=checkout.example.com\n"
    )
    env = compose_config(tmp_path, dotenv)["services"]["backend"]["environment"]
    assert env["STRIPE_API_BASE"] == "https://api.stripe.com"
    assert env["STRIPE_SECRET_KEY"] == "sk_test_realaccount"
    assert env["TRUEMED_API_BASE"] == "https://dev-api.truemed.com"
    assert env["DJANGO_SECRET_KEY"] == "a-real-one"
    assert env["DJANGO_ALLOWED_HOSTS"] == "checkout.example.com,api,backend,backend2"


def test_compose_variable_names_are_the_env_example_names() -> None:
    """Every name a user can set (interpolated) or the containers receive is a documented one."""
    raw = COMPOSE_FILE.read_text()
    documented = env_example_names()
    interpolated = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", raw))
    unknown = interpolated - documented - {"WEB_CONCURRENCY"}
    assert not unknown, f"compose reads names that .env.example does not list: {sorted(unknown)}"
    config = yaml.safe_load(raw)
    for name, service in config["services"].items():
        keys = set(service.get("environment", {}))
        unknown = keys - documented - CONTAINER_ONLY
        assert not unknown, f"service {name} sets names that .env.example does not list: {sorted(unknown)}"


def test_images_run_as_non_root_and_keep_secrets_out() -> None:
    for dockerfile in (BACKEND_DIR / "Dockerfile", REPO_DIR / "frontend" / "Dockerfile"):
        text = dockerfile.read_text()
        users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
        assert users, f"{dockerfile} has no USER line"
        assert users[-1].split(":")[0] not in {"root", "0"}, dockerfile
        assert "HEALTHCHECK" in text
        # No secret baked in as image configuration (a build-only value on one RUN line is fine).
        for line in re.findall(r"^(?:ENV|ARG)\s+.*$", text, flags=re.MULTILINE):
            assert not re.search(r"SECRET|PASSWORD|_KEY", line), f"{dockerfile}: {line}"
    backend = (BACKEND_DIR / "Dockerfile").read_text()
    assert "FROM ${PYTHON_IMAGE} AS builder" in backend
    assert "FROM ${PYTHON_IMAGE} AS runtime" in backend
    assert "COPY --from=builder /opt/venv" in backend
    assert "collectstatic" in backend
    frontend = (REPO_DIR / "frontend" / "Dockerfile").read_text()
    assert "npm ci" in frontend
    assert "npm run build" in frontend
    assert "ARG VITE_API_BASE_URL" in frontend
    for ignore, needed in (
        (BACKEND_DIR / ".dockerignore", {".env", ".venv/", "*.sqlite3", "db.sqlite3*"}),
        (REPO_DIR / "frontend" / ".dockerignore", {".env", "node_modules/", "dist/"}),
    ):
        assert needed <= set(ignore.read_text().split()), ignore


def _ports(service: dict[str, Any]) -> set[str]:
    ports = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.add(f"{port['published']}:{port['target']}")
        else:
            ports.add(str(port))
    return ports


def test_env_example_copied_to_dotenv_still_gives_a_working_compose(tmp_path: Path) -> None:
    """`cp .env.example .env` (made for a bare host) must not break the container network's wiring."""
    services = compose_config(tmp_path, ENV_EXAMPLE.read_text())["services"]
    backend = services["backend"]["environment"]
    assert backend["DJANGO_DEBUG"] == "0"
    assert backend["DJANGO_SECURE_SSL_REDIRECT"] == "0"  # plain http on localhost: no redirect to https
    assert backend["DJANGO_SECRET_KEY"].startswith("demo-only-")
    assert "backend" in backend["DJANGO_ALLOWED_HOSTS"].split(",")
    assert "@db:5432/" in backend["DATABASE_URL"]
    assert backend["STRIPE_API_BASE"] == "http://sandbox:8100/stripe"
    sandbox = services["sandbox"]["environment"]
    assert sandbox["SANDBOX_HOST"] == "0.0.0.0"  # noqa: S104 - inside the container
    assert sandbox["SANDBOX_STRIPE_WEBHOOK_URL"] == "http://api:8080/api/webhooks/stripe/"
    assert backend["REDIS_URL"] == "redis://redis:6379/0"
    assert backend["TRUSTED_PROXY_COUNT"] == "1"  # .env.example leaves it empty: the compose default holds


@pytest.mark.parametrize("source", ["config/settings.py", "provider_sandbox/config.py"])
def test_every_setting_read_from_the_environment_is_in_env_example(source: str) -> None:
    text = (BACKEND_DIR / source).read_text()
    read = set(re.findall(r'\w(?<!setdefault)\(\s*"([A-Z][A-Z0-9_]{2,})"', text))
    assert len(read) >= 10, f"the pattern no longer finds how {source} reads settings"
    missing = read - env_example_names()
    assert not missing, f"{source} reads names that .env.example does not list: {sorted(missing)}"


def test_every_env_example_setting_reaches_the_containers() -> None:
    """A value set in .env must not be silently dropped by the compose file."""
    raw = COMPOSE_FILE.read_text()
    # Fixed by compose on purpose: DEBUG (always 0 in the images) and the addresses that only make sense
    # inside the compose network (the sandbox listens on 0.0.0.0:8100 and calls backend:8000).
    not_passed = {
        "DJANGO_DEBUG",
        "SANDBOX_BASE_URL",
        "SANDBOX_HOST",
        "SANDBOX_PORT",
        "SANDBOX_SMTP_PORT",
        "SANDBOX_STRIPE_WEBHOOK_URL",
        "SANDBOX_TRUEMED_WEBHOOK_URL",
        "BACKEND_REPLICA_NAME",  # each replica's own name, fixed per service
    }
    missing = [name for name in env_example_names() - not_passed if f"${{{name}" not in raw]
    assert not missing, f"docker-compose.yml never passes on: {sorted(missing)}"


def _base_images(dockerfile: Path) -> tuple[dict[str, str], list[str]]:
    """The ARGs declared before the first FROM (with their defaults) and every FROM's image."""
    global_args: dict[str, str] = {}
    images: list[str] = []
    for line in dockerfile.read_text().splitlines():
        arg = re.match(r"^ARG\s+([A-Z_]+)(?:=(\S+))?\s*$", line)
        if arg and not images:
            global_args[arg.group(1)] = arg.group(2) or ""
        source = re.match(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)", line, flags=re.IGNORECASE)
        if source:
            images.append(source.group(1))
    return global_args, images


@pytest.mark.parametrize("dockerfile", sorted(OFFICIAL_BASES), ids=lambda p: p.parent.name)
def test_every_base_image_is_a_build_argument_defaulting_to_the_official_one(dockerfile: Path) -> None:
    global_args, images = _base_images(dockerfile)
    assert images, dockerfile
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile.read_text(), flags=re.MULTILINE | re.I))
    used = set()
    for image in images:
        if image in stages:
            continue
        match = re.fullmatch(r"\$\{?([A-Z_]+)\}?", image)
        assert match, f"{dockerfile}: FROM {image} is not a build argument"
        used.add(match.group(1))
    assert {name: global_args.get(name) for name in used} == OFFICIAL_BASES[dockerfile]


def test_the_local_bases_override_only_swaps_image_sources(tmp_path: Path) -> None:
    plain = compose_config(tmp_path)
    local = compose_config(tmp_path, "", LOCAL_BASES)
    base_args = {name for args in OFFICIAL_BASES.values() for name in args}
    swapped = []
    for name, merged in local["services"].items():
        if name == MAIL_STAND_IN:
            continue  # a stand-in, not the same software (test_mailpit_and_its_local_stand_in_...)
        service = dict(merged)
        if service.get("image") != plain["services"][name].get("image"):
            swapped.append(service["image"])
            service["image"] = plain["services"][name]["image"]
        if "build" in service:
            build = dict(service["build"])
            args = dict(build.get("args") or {})
            swapped += [args.pop(arg) for arg in base_args & set(args)]
            build["args"] = args or plain["services"][name]["build"].get("args")
            if build["args"] is None:
                del build["args"]
            service["build"] = build
        assert service == plain["services"][name], f"the override changes more than image sources in {name}"
    assert swapped, "the override swaps nothing"
    assert all(image.startswith("localhost/sofia-base/") for image in swapped), swapped
    assert local["services"]["db"]["image"] != plain["services"]["db"]["image"]
    assert {k: v for k, v in local.items() if k != "services"} == {
        k: v for k, v in plain.items() if k != "services"
    }


MAIL_STAND_IN = "mailpit"


def test_mailpit_and_its_local_stand_in_take_the_backends_mail_at_one_address(tmp_path: Path) -> None:
    """Mailpit ships only as an image; without a registry the sandbox's mail sink stands in for it."""
    plain = compose_config(tmp_path)
    local = compose_config(tmp_path, "", LOCAL_BASES)
    for config in (plain, local):
        for name in ("backend", "reconcile"):
            assert config["services"][name]["environment"]["EMAIL_URL"] == "smtp://mailpit:1025"
        assert "8025:8025" in _ports(config["services"][MAIL_STAND_IN])
    mailpit = plain["services"][MAIL_STAND_IN]
    assert mailpit["image"].startswith("axllent/mailpit:v")
    assert "readyz" in mailpit["healthcheck"]["test"]
    stand_in = local["services"][MAIL_STAND_IN]
    # The backend's own image (so no other image is needed), built exactly as the backend's.
    assert stand_in["image"] == local["services"]["backend"]["image"]
    assert stand_in["build"] == local["services"]["backend"]["build"]
    assert stand_in["command"] == ["python", "-m", "provider_sandbox.mail"]
    assert stand_in["environment"] == {
        "SANDBOX_HOST": "0.0.0.0",  # noqa: S104 - inside the container
        "SANDBOX_SMTP_PORT": "1025",
        "SANDBOX_PORT": "8025",
    }
    assert "/_sandbox/health" in " ".join(stand_in["healthcheck"]["test"])
    # In the full demo the sandbox's own sink is off: all mail goes to Mailpit.
    assert plain["services"]["sandbox"]["environment"]["SANDBOX_SMTP_PORT"] == "0"


def test_make_test_runs_the_compose_demo_under_podman() -> None:
    makefile = (REPO_DIR / "Makefile").read_text()
    test_target = re.search(r"^test:([^#\n]*)", makefile, flags=re.MULTILINE)
    assert test_target
    assert "compose-smoke" in test_target.group(1).split()
    assert re.search(r"^compose-smoke:.*\n\tbash scripts/compose-smoke\.sh$", makefile, flags=re.MULTILINE)
    deps = (REPO_DIR / "scripts" / "install-system-deps.sh").read_text()
    for package in ("podman", "podman-compose", "mmdebstrap", "runc", "netavark", "aardvark-dns"):
        assert re.search(rf"\b{re.escape(package)}\b", deps), package
    assert "default_ulimits = []" in deps
    # The podman settings both the install script and the smoke test use: one file.
    shared_conf = REPO_DIR / "scripts" / "compose-smoke" / "containers.conf"
    assert "default_ulimits = []" in shared_conf.read_text()
    assert "compose-smoke/containers.conf" in deps
    assert "containers.conf" in (REPO_DIR / "scripts" / "compose-smoke" / "podman-env.sh").read_text()
    for script in ("compose-smoke.sh", "compose-smoke/bases.sh", "compose-smoke/postgres-entrypoint.sh"):
        subprocess.run(["bash", "-n", str(REPO_DIR / "scripts" / script)], check=True)


def _smoke_driver() -> ModuleType:
    """scripts/compose-smoke/smoke.py, the driver of `make compose-smoke` (loaded from its path)."""
    spec = importlib.util.spec_from_file_location(
        "compose_smoke", REPO_DIR / "scripts/compose-smoke/smoke.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_smoke_driver_starts_in_depends_on_order_with_the_compose_health_checks(
    config: dict[str, Any], tmp_path: Path
) -> None:
    smoke = _smoke_driver()
    assert smoke.stages(config) == [
        ["db", "mailpit", "redis", "sandbox"],
        ["backend"],
        ["backend2", "reconcile"],
        ["api"],
        ["frontend"],
    ]
    argv, timeout = smoke.health_command(config["services"]["reconcile"])
    assert argv[:2] == ["/bin/sh", "-c"]
    assert "$(find /tmp/reconcile.ok" in argv[2]  # `$$` in the compose file is a literal `$`
    assert timeout == 5
    argv, _ = smoke.health_command(config["services"]["backend"])
    assert argv[:2] == ["python", "-c"]
    assert "/api/ready/" in argv[2]
    builds = smoke.builds(compose_config(tmp_path, "", LOCAL_BASES))
    assert {image for image, *_ in builds} == {
        "sofia-checkout-backend:local",
        "sofia-checkout-frontend:local",
    }
    for _image, _context, dockerfile, args in builds:
        assert Path(dockerfile).name == "Dockerfile"
        assert all(v.startswith("localhost/sofia-base/") for k, v in args.items() if k.endswith("_IMAGE"))


def test_the_smoke_driver_fills_hosted_page_forms_as_a_browser_would() -> None:
    smoke = _smoke_driver()
    page = """<form method="post" action="/pay/truemed/abc/survey"><select name="reason">
      <option>Chronic condition</option><option>Other</option></select>
      <input type="radio" name="recommended" value="no"><input type="radio" name="recommended" value="yes">
      <button type="submit">Continue</button></form>
      <form method="post" action="/pay/truemed/abc/cancel"><button>Cancel</button></form>"""
    forms = smoke.Forms()
    forms.feed(page)
    assert forms.forms[0]["action"] == "/pay/truemed/abc/survey"
    assert forms.forms[0]["fields"] == {"reason": "Chronic condition", "recommended": "yes"}
