"""A reseller agent exports a list larger than what streams (issue 19): the export runs in
a real Celery worker, the progress bar advances on the page (htmx polling), and the file
downloads when ready, ending with the row count the page shows."""

import csv
import io
import re
import time

import pytest
from playwright.sync_api import expect

from accounts.models import User
from jobs.models import Job
from tests.notifications.conftest import (  # noqa: F401 (fixtures)
    broker,
    committed_world,
    private_redis,
    smtp_sink,
    start_worker,
)

pytestmark = pytest.mark.e2e


def test_a_large_export_shows_its_progress_and_downloads_when_ready(page, start_worker, settings, tmp_path):  # noqa: F811
    settings.EXPORT_STREAM_MAX_ROWS = 5
    start_worker(MEDIA_ROOT=str(settings.MEDIA_ROOT), EXPORT_MAX_ROWS_PER_SECOND="8", EXPORT_CHUNK_ROWS="4")
    User.objects.filter(email="agent@reseller.example.com").update(language="en", time_zone="Asia/Seoul")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("agent@reseller.example.com")
    page.get_by_label("Password").fill("demo-pass-2024")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")

    page.goto("/cases/")
    page.get_by_role("link", name="Export CSV").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Case export")
    bar = page.locator("progress.job-bar")

    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not page.locator("#job-download").count():
        seen.append(int(bar.get_attribute("value")))
        page.wait_for_timeout(300)
    page.screenshot(path=str(tmp_path / "export-ready.png"), full_page=True)
    running = [value for value in seen if 0 < value < 100]
    assert len(set(running)) >= 2 and running == sorted(running), f"the bar did not advance: {seen}"

    job = Job.objects.get()
    expect(page.locator(".job-progress")).to_contain_text(f"Ready: {job.row_count} rows")
    with page.expect_download() as download_info:
        page.locator("#job-download").click()
    download = download_info.value
    assert re.fullmatch(r"cases-\d{8}-\d{4}\.csv", download.suggested_filename)
    body = open(download.path(), "rb").read()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[-1] == [f"End of export: {job.row_count} cases"] and len(rows) == job.row_count + 2
    assert rows[1][9].endswith("+09:00")
