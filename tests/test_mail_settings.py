import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_email_file_path_is_where_the_file_backend_writes(tmp_path):
    """README: EMAIL_BACKEND=…filebased.EmailBackend writes each mail into EMAIL_FILE_PATH."""
    target = tmp_path / "mails"
    script = (
        "import django; django.setup();"
        "from django.core.mail import send_mail;"
        "send_mail('Subject', 'Body', 'a@portal.example', ['b@acme.example'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.local",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(target),
    }
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)
    (written,) = list(target.iterdir())
    assert "Subject: Subject" in written.read_text()
