import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from notifications.listener import make_server


class Command(BaseCommand):
    help = (
        "Receive replies to case mail over SMTP (or LMTP with --lmtp) and turn them into "
        "comments. Point the MTA's transport for the reply domain here."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.MAIL_LISTENER_HOST)
        parser.add_argument("--port", type=int, default=settings.MAIL_LISTENER_PORT)
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP (RFC 2033) instead of SMTP")

    def handle(self, *args, host: str, port: int, lmtp: bool, **options):
        asyncio.run(self._serve(host, port, lmtp))

    async def _serve(self, host: str, port: int, lmtp: bool) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(make_server(lmtp=lmtp), host=host, port=port)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        self.stdout.write(f"Listening for replies ({'LMTP' if lmtp else 'SMTP'}) on {host}:{port}")
        async with server:
            await stop.wait()
        self.stdout.write("Stopped.")
