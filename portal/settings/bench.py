"""The benchmark's server (`manage.py bench_run` starts gunicorn with it): production settings,
plus the Server-Timing header on every response (portal/timing.py). Never deploy it: the header
tells anyone how long the server and its SQL took."""

from .production import *  # noqa: F403

SERVER_TIMING = True
MIDDLEWARE = ["portal.timing.ServerTimingMiddleware", *MIDDLEWARE]  # noqa: F405
