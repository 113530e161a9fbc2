"""Helpers for the notification tests: a real SMTP server to send to (aiosmtpd), a
private redis-server and Celery worker subprocesses for the tests that stop Redis or kill
a worker (never the shared ones), and the persona world for tests that must commit."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from notifications.models import OutboxMessage
from tests.world import build_world

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float = 20, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


# --------------------------------------------------------------------------- SMTP


class SmtpSink:
    """An SMTP server that keeps what it accepts. It can answer 4xx to the next N mails,
    refuse some recipients for good (5xx), or stall before answering DATA. A mail counts
    as delivered only once the server has answered 250 to it: when the client goes away
    while the server stalls, aiosmtpd cancels the handler and nothing is kept — as a real
    server would discard a transaction the client never completed."""

    def __init__(self):
        self.messages: list = []
        self.attempts = 0
        self.fail_next = 0
        self.fail_reply = "451 4.3.0 Try again later"
        self.refuse: set[str] = set()
        self.stall = 0.0
        self.data_started = threading.Event()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        self.data_started.set()
        if self.stall:
            await asyncio.sleep(self.stall)
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.fail_reply
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    """Django sends with the real SMTP backend to the sink."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    return smtp_sink


# --------------------------------------------------------------------------- Redis and Celery


class PrivateRedis:
    """A redis-server of our own on a free port, to stop and start at will."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]
            + ["--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=10, message="the private redis-server")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path):
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


def _reset_broker_pools(app) -> None:
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        app.__dict__["amqp"]._producer_pool = None
    # kombu keeps producer pools per connection in a registry of its own: without this, a
    # later test (even an eager one) is handed a producer pool whose connections are closed.
    pools.reset()


@pytest.fixture
def broker(private_redis):
    """This test process publishes tasks to the private Redis instead of running them eagerly."""
    from portal.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = private_redis.url, False
    _reset_broker_pools(app)
    yield private_redis
    app.conf.broker_url, app.conf.task_always_eager = saved
    _reset_broker_pools(app)


class Worker:
    """`celery -A portal worker` in its own process group, on the private Redis and this
    session's test database, sending to the SMTP sink."""

    def __init__(self, *, redis_url: str, smtp_port: int, log: Path, env: dict[str, str] | None = None):
        db = connection.settings_dict
        database_url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.base",
            "DATABASE_URL": database_url,
            "DATABASE_CONN_MAX_AGE": "0",
            "REDIS_URL": redis_url,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_TIMEOUT": "10",
            "OUTBOX_RETRY_BACKOFF_SECONDS": "1",
            "OUTBOX_SWEEP_AGE_SECONDS": "0",
            "LOG_LEVEL": "INFO",
            **(env or {}),
        }
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.log.write_bytes(b"")
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "celery"),
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
            ]
            + [
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(
            lambda: b" ready." in self.log.read_bytes(), timeout=45, message="the Celery worker to start"
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker: no warm shutdown, no acknowledgement, no cleanup."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def committed_world(transactional_db):
    """For tests whose data must be committed (another process or thread reads it). The
    database is emptied after each such test, so the world is built again first."""
    build_world()


@pytest.fixture
def start_worker(committed_world, broker, smtp_sink, tmp_path):
    workers: list[Worker] = []

    def start(**env) -> Worker:
        worker = Worker(
            redis_url=broker.url,
            smtp_port=smtp_sink.port,
            log=tmp_path / f"worker{len(workers)}.log",
            env=env,
        )
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
    connection.close()


def outbox_for(case, **filters):
    return OutboxMessage.objects.filter(case=case, **filters)


# --------------------------------------------------------------------------- reply addresses


def reply_address_of(case, address: str) -> str | None:
    """The reply address the portal gives `address` in mail about `case`: its account's when
    an account with that address may see the case, else the share's (None for anyone else)."""
    from accounts.models import User
    from notifications.selectors import reply_address_for, user_may_see_case

    address = address.lower()
    holders = User.objects.filter(email=address) | User.objects.filter(notification_email__iexact=address)
    user = next((u for u in holders if user_may_see_case(user=u, case_id=case.pk)), None)
    return reply_address_for(case=case, address=address, user=user)
