"""Sign-in rate limits stop attackers, not owners (issue 16, findings 3 and 4): failures
refuse the attacking client, never the owner signing in from another one; an address gets
only growing delays; a Redis outage never turns sign-in into a 500."""

import time

from accounts.adapters import _account_delay, client_ip
from portal.demo import DEMO_PASSWORD
from tests.notifications.conftest import PrivateRedis

OWNER = "agent@reseller.example.com"


def sign_in(client, password, **meta):
    return client.post("/accounts/login/", {"login": OWNER, "password": password}, **meta)


def signed_in(response) -> bool:
    return response.status_code == 302 and "login" not in response["Location"]


def test_an_attackers_50_failures_leave_the_owner_able_to_sign_in_from_another_client(client, w, settings):
    settings.LOGIN_ACCOUNT_DELAY_MAX_SECONDS = 0.05
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    answers = [sign_in(client, f"guess-{n}", **attacker) for n in range(50)]
    assert all(not signed_in(a) for a in answers)
    assert any("Too many failed login attempts" in a.content.decode() for a in answers)
    assert answers[-1].status_code == 429  # and then the client's sign-in attempts per minute
    # The attacker's client is refused even the right password …
    assert not signed_in(sign_in(client, DEMO_PASSWORD, **attacker))
    # … the owner, elsewhere, is not.
    client.cookies.clear()
    assert signed_in(sign_in(client, DEMO_PASSWORD, REMOTE_ADDR="198.51.100.7"))


def test_a_distributed_attack_only_slows_the_address(client, w, settings):
    settings.LOGIN_ACCOUNT_DELAY_MAX_SECONDS = 0.05
    for n in range(50):
        assert not signed_in(sign_in(client, "wrong", REMOTE_ADDR=f"203.0.113.{n + 1}"))
    assert signed_in(sign_in(client, DEMO_PASSWORD, REMOTE_ADDR="198.51.100.7"))


def test_delays_grow_per_address_and_stop_at_the_cap(settings):
    settings.LOGIN_ACCOUNT_DELAY_AFTER, settings.LOGIN_ACCOUNT_DELAY_MAX_SECONDS = 5, 2
    assert [_account_delay(n) for n in (0, 4, 5, 6, 7, 8, 50)] == [0, 0, 0.25, 0.5, 1, 2, 2]


def test_behind_the_load_balancer_each_client_is_counted_apart(client, w, settings):
    """docs/deployment.md: one proxy appends the peer to X-Forwarded-For."""
    settings.TRUSTED_PROXY_COUNT = 1
    lb = "10.0.0.2"
    for n in range(15):
        # The attacker writes a fake address first; the balancer appends the real one.
        sign_in(client, "wrong", REMOTE_ADDR=lb, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.9")
    assert not signed_in(sign_in(client, DEMO_PASSWORD, REMOTE_ADDR=lb, HTTP_X_FORWARDED_FOR="203.0.113.9"))
    client.cookies.clear()
    assert signed_in(sign_in(client, DEMO_PASSWORD, REMOTE_ADDR=lb, HTTP_X_FORWARDED_FOR="198.51.100.7"))


def test_the_client_address_trusts_only_the_configured_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # X-Forwarded-For ignored unless configured
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "1.2.3.4"
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.2"  # fewer hops than proxies: the peer, never a 500
    bad = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip\x00")
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(bad) == "10.0.0.2"


def test_sign_in_still_works_while_redis_is_down(client, w, settings, tmp_path, caplog):
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        settings.CACHES = {
            "default": {
                "BACKEND": "portal.cache.FailSafeRedisCache",
                "LOCATION": redis.url,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        assert not signed_in(sign_in(client, "wrong"))  # the limiter's counters are in Redis
        redis.stop()
        started = time.monotonic()
        assert not signed_in(sign_in(client, "wrong"))
        assert signed_in(sign_in(client, DEMO_PASSWORD))
        assert time.monotonic() - started < 10
        assert "Cache unavailable" in caplog.text
    finally:
        redis.stop()
