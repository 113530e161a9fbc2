"""The backup and restore scripts round-trip a real database (SPEC §10: a tested restore)."""

import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.world import build_world

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_a_fresh_database_keeps_every_case(tmp_path, file_case, w):
    build_world()  # an earlier transactional test may have emptied the database
    file_case(w.agent, w.acme, title="Kept through a restore")
    settings = connection.settings_dict
    base = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}"
    source, restored = f"{base}/{settings['NAME']}", f"restored_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(f"{base}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run(
            ["bash", "scripts/backup", str(tmp_path)],
            cwd=ROOT,
            check=True,
            env={"DATABASE_URL": source, "PATH": "/usr/bin:/bin"},
        )
        subprocess.run(
            ["bash", "scripts/restore", str(tmp_path)],
            cwd=ROOT,
            check=True,
            env={"DATABASE_URL": f"{base}/{restored}", "PATH": "/usr/bin:/bin"},
        )
        with psycopg.connect(f"{base}/{restored}") as copy, connection.cursor() as original:
            original.execute("SELECT count(*), max(number) FROM cases_case")
            assert (
                copy.execute("SELECT count(*), max(number) FROM cases_case").fetchone() == original.fetchone()
            )
            assert copy.execute(
                "SELECT count(*) FROM cases_case WHERE title = 'Kept through a restore'"
            ).fetchone() == (1,)
            # the append-only guard came back with the data
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation):
                copy.execute("DELETE FROM cases_caseevent")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
        admin.close()
