"""The Redis cache, failing safe (issue 16, finding 4): when Redis is unreachable, a read
is a miss, a write is dropped and `add` (a lock) succeeds, each logged, so the rate
limiters let requests through instead of answering 500. Nothing the portal keeps in the
cache is needed for correctness: sessions live in PostgreSQL."""

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
_LOG_EVERY_SECONDS = 30
_last_logged = 0.0


def _outage(operation: str, error: Exception) -> None:
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= _LOG_EVERY_SECONDS:  # one line per burst, not one per request
        _last_logged = now
        logger.error("Cache unavailable (%s: %s); rate limits are not applied meanwhile.", operation, error)


class FailSafeRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as error:
            _outage("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as error:
            _outage("get_many", error)
            return {}

    def set(self, key, value, timeout=None, version=None):  # noqa: A003
        try:
            return super().set(key, value, timeout, version)
        except RedisError as error:
            _outage("set", error)

    def set_many(self, data, timeout=None, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as error:
            _outage("set_many", error)
            return list(data)

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            _outage("add", error)
            return True

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as error:
            _outage("delete", error)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except RedisError as error:
            _outage("incr", error)
            return delta

    def touch(self, key, timeout=None, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as error:
            _outage("touch", error)
            return False
