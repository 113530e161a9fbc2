"""Issue 15: production refuses to start unsafely, development-only parts stay out of it, the
benchmark's server opts into its timing header, the lock matches pyproject.toml, and the set-up
script rebuilds a .venv that was made elsewhere."""

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parent.parent
UV_VERSION = "0.13.9"

VALID_PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "p" * 60,
    "DATABASE_URL": "postgres://portal:secret@db.internal:5432/portal",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "SITE_URL": "https://portal.example.com/",
}


def production_settings(monkeypatch, **overrides) -> dict:
    """Execute portal/settings/production.py afresh with exactly this environment."""
    for name in VALID_PRODUCTION_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**VALID_PRODUCTION_ENV, **overrides}.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    return runpy.run_module("portal.settings.production")


# --------------------------------------------------------------------------- production refuses


def test_production_starts_on_postgresql_and_redis_with_everything_set(monkeypatch):
    settings = production_settings(monkeypatch)
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings["DATABASES"]["default"]["HOST"] == "db.internal"
    assert (
        settings["CACHES"]["default"]["BACKEND"] == "portal.cache.FailSafeRedisCache"
    )  # Redis, failing safe
    assert settings["CELERY_BROKER_URL"] == "redis://redis.internal:6379/0"
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is False
    assert settings["ALLOWED_HOSTS"] == ["portal.example.com"]
    assert settings["SITE_URL"] == "https://portal.example.com"
    assert settings["DEBUG"] is False


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_SECRET_KEY", None),
        ("DJANGO_SECRET_KEY", "short-and-guessable"),
        ("DATABASE_URL", None),
        ("DATABASE_URL", "sqlite:///db.sqlite3"),
        ("REDIS_URL", None),
        ("REDIS_URL", "memory://"),
        ("DJANGO_ALLOWED_HOSTS", None),
        ("DJANGO_ALLOWED_HOSTS", " , "),
        ("SITE_URL", None),
        ("SITE_URL", "portal.example.com"),
    ],
)
def test_production_refuses_to_start_without(monkeypatch, variable, value):
    with pytest.raises(ImproperlyConfigured, match=variable) as refused:
        production_settings(monkeypatch, **{variable: value})
    # Only what is wrong is named, so the operator knows what to fix.
    others = set(VALID_PRODUCTION_ENV) - {variable}
    assert not any(name in str(refused.value) for name in others)


def test_production_names_everything_missing_at_once(monkeypatch):
    with pytest.raises(ImproperlyConfigured) as refused:
        production_settings(monkeypatch, **dict.fromkeys(VALID_PRODUCTION_ENV))
    assert all(name in str(refused.value) for name in VALID_PRODUCTION_ENV)


def test_wsgi_refuses_to_start_without_configuration():
    env = {k: v for k, v in os.environ.items() if k not in VALID_PRODUCTION_ENV}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", "import portal.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: Production settings refuse to start" in result.stderr
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr


# --------------------------------------------------------------------------- development-only parts


def test_development_apps_and_middleware_are_not_in_production(monkeypatch):
    production = production_settings(monkeypatch)
    assert "bench" not in production["INSTALLED_APPS"]
    assert "portal.timing.ServerTimingMiddleware" not in production["MIDDLEWARE"]
    local = runpy.run_module("portal.settings.local")
    assert "bench" in local["INSTALLED_APPS"]
    assert local["MIDDLEWARE"][0] == "portal.timing.ServerTimingMiddleware"


def test_bench_settings_are_production_plus_the_timing_header(monkeypatch):
    production = production_settings(monkeypatch)
    bench = runpy.run_module("portal.settings.bench")
    assert bench["SERVER_TIMING"] is True
    assert bench["MIDDLEWARE"] == ["portal.timing.ServerTimingMiddleware", *production["MIDDLEWARE"]]
    assert "bench" not in bench["INSTALLED_APPS"]


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_server_sends_its_timing_header(monkeypatch):
    from bench.run import Client, Servers

    # The runner starts gunicorn on this test database (not the development one of DATABASE_URL).
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with Servers(workers=1, redis_url=None, log=lambda line: None) as servers:
        response = Client("127.0.0.1", servers.port).get("/accounts/login/")
    assert response.status == 200
    assert response.server_ms is not None and response.queries is not None


# --------------------------------------------------------------------------- test runs leave nothing


def test_test_settings_remove_their_upload_folder_on_exit():
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_TEST_MEDIA_ROOT"}
    code = "import portal.settings.test as s, os; assert os.path.isdir(s.MEDIA_ROOT); print(s.MEDIA_ROOT)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip())
    assert folder.name.startswith("portal-test-uploads-") and not folder.exists()


# --------------------------------------------------------------------------- the lock


def uv_binary() -> str:
    """The pinned uv that scripts/_setup.sh installs (scripts/test exports it as UV)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    for candidate in (
        os.environ.get("UV"),
        shutil.which("uv"),
        str(cache / "reseller-portal" / f"uv-{UV_VERSION}" / "bin" / "uv"),
    ):
        if candidate and Path(candidate).is_file():
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True).stdout
            if version.split()[1:2] == [UV_VERSION]:
                return candidate
    pytest.skip(f"uv {UV_VERSION} is not installed here: `bash scripts/lock` installs it")


def uv_lock_check(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [uv_binary(), "lock", "--check", "--offline"],
        cwd=folder,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_uv_lock_matches_pyproject():
    result = uv_lock_check(ROOT)
    assert result.returncode == 0, f"run `bash scripts/lock` and commit uv.lock:\n{result.stderr}"


def test_lock_check_fails_when_a_dependency_is_added_without_locking(tmp_path):
    shutil.copy(ROOT / "uv.lock", tmp_path)
    pyproject = (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(pyproject)
    assert uv_lock_check(tmp_path).returncode == 0
    (tmp_path / "pyproject.toml").write_text(
        pyproject.replace('"tqdm>=4.66,<5",', '"tqdm>=4.66,<5",\n    "six>=1.16",', 1)
    )
    changed = uv_lock_check(tmp_path)
    assert changed.returncode != 0 and "needs to be updated" in changed.stderr


# --------------------------------------------------------------------------- the set-up script


def setup_copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, project / name)
    for name in ("_setup.sh", "uv-requirements.txt"):
        shutil.copy(ROOT / "scripts" / name, project / "scripts" / name)
    return project


def run_setup(project: Path, **env) -> subprocess.CompletedProcess:
    uv = Path(uv_binary())
    result = subprocess.run(
        ["bash", "-c", "source scripts/_setup.sh run"],
        cwd=project,
        # The pinned uv on PATH, so that the copy needs no network for uv itself.
        env={**os.environ, "PATH": f"{uv.parent}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_a_venv_linked_to_a_shared_environment_is_replaced_and_its_target_left_alone(tmp_path):
    project = setup_copy(tmp_path)
    shared = tmp_path / "shared-venv"
    (shared / "bin").mkdir(parents=True)
    (shared / "bin" / "python").symlink_to(sys.executable)
    (shared / "keep-me").write_text("shared")
    (project / ".venv").symlink_to(shared)

    first = run_setup(project)
    assert "Replacing the link .venv" in first.stdout
    venv = project / ".venv"
    assert venv.is_dir() and not venv.is_symlink()
    assert sorted(p.name for p in shared.iterdir()) == ["bin", "keep-me"]
    assert (shared / "keep-me").read_text() == "shared"
    import_django = [str(venv / "bin" / "python"), "-c", "import django, celery, psycopg"]
    assert subprocess.run(import_django, timeout=60).returncode == 0

    # Unchanged: nothing is installed again.
    again = run_setup(project)
    assert "Installing" not in again.stdout and "Rebuilding" not in again.stdout

    # Another lock: detected by its hash and synced to it.
    (project / "uv.lock").write_text((project / "uv.lock").read_text() + "\n")
    synced = run_setup(project)
    assert "Installing the locked dependencies" in synced.stdout and "Rebuilding" not in synced.stdout


def test_a_venv_made_by_another_python_is_rebuilt(tmp_path):
    project = setup_copy(tmp_path)
    # A .venv whose interpreter is another Python (as if made with python3.10 elsewhere).
    (project / ".venv" / "bin").mkdir(parents=True)
    fake = project / ".venv" / "bin" / "python"
    fake.write_text("#!/bin/sh\necho /opt/python3.10/bin/python3.10\n")
    fake.chmod(0o755)
    (project / ".venv" / "stale-file").write_text("from the old venv")

    result = run_setup(project)
    assert "Rebuilding .venv: it was made by another Python" in result.stdout
    assert not (project / ".venv" / "stale-file").exists()
    version = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.stdout.strip() in {"(3, 11)", "(3, 12)", "(3, 13)"}


# --------------------------------------------------------------------------- docker compose
# scripts/test runs `docker compose config` where a compose binary exists; these hold everywhere.


def compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_builds_one_image_and_everything_waits_for_the_migration():
    services = compose()["services"]
    portal = {name for name, s in services.items() if s.get("image") == "reseller-portal:local"}
    assert portal == {"migrate", "web", "worker", "beat", "mail-listener", "demo"}
    assert [name for name, s in services.items() if "build" in s] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in portal - {"migrate"}:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_compose_demo_data_only_under_the_demo_profile():
    services = compose()["services"]
    seeding = {name for name, s in services.items() if "seed_demo" in str(s.get("command", ""))}
    assert seeding == {"demo"} and services["demo"]["profiles"] == ["demo"]


def test_compose_has_no_default_secret_and_pinned_images():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${DJANGO_SECRET_KEY:?" in text and "${POSTGRES_PASSWORD:?" in text
    example = (ROOT / ".env.example").read_text()
    assert "\nDJANGO_SECRET_KEY=\n" in example and "\nPOSTGRES_PASSWORD=\n" in example
    for name, service in compose()["services"].items():
        image = service["image"]
        if image != "reseller-portal:local":
            tag = image.rsplit(":", 1)[1]
            assert any(ch.isdigit() for ch in tag) and "." in tag and "latest" not in tag, name
    assert (ROOT / "Dockerfile").read_text().splitlines()[3].startswith("FROM python:3.11.")


def test_compose_long_running_services_have_health_checks_and_readme_lists_them():
    readme = (ROOT / "README.md").read_text()
    for name, service in compose()["services"].items():
        if service.get("restart") != "no":
            assert "healthcheck" in service, name
        assert f"`{name}`" in readme, f"README does not describe the compose service {name}"
        for port in service.get("ports", []):
            default = port.split(":-", 1)[1].split("}", 1)[0]
            assert default in readme, f"README does not give port {default} of {name}"
