"""Large case exports run as background jobs (issue 19): the file holds exactly the rows of
the filtered list, in the reader's language and time zone, ends with its row count, is
downloadable by its owner alone (R9: 404 for anyone else) and expires after a day. Small
exports stream, with the same format."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from accounts.models import RoleAssignment
from cases.filters import CaseFilter
from cases.models import Case
from cases.selectors import case_visible_to
from customers.selectors import customer_visible_to
from jobs.models import Job
from jobs.services import job_begin, jobs_cleanup_run
from notifications.models import OutboxMessage

RAW_CODES = re.compile(
    r"\b(NEW|IN_PROGRESS_GOOGLE_SUPPORT|ACTION_REQUIRED|SOLUTION_PROVIDED|CLOSED|PORTAL|DELEGATED|EMAIL"
    r"|True|False|None)\b"
)


@pytest.fixture
def small_threshold(settings):
    settings.EXPORT_STREAM_MAX_ROWS = 3
    return settings


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode()), "UTF-8 with a byte-order mark, for spreadsheets"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def listed_numbers(user, query: str) -> list[int]:
    """What the My cases list shows for these filters, in its order."""
    case_filter = CaseFilter(
        QueryDict(query), queryset=case_visible_to(user), customers=customer_visible_to(user)
    )
    assert case_filter.is_valid()
    return list(case_filter.qs.order_by("-updated_at", "-id").values_list("number", flat=True))


def start_export(client, query: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("cases:export") + "?" + query)
    assert response.status_code == 302, "above the threshold the export becomes a job"
    return Job.objects.get(pk=response.url.rstrip("/").split("/")[-1]), response


def download(client, job) -> bytes:
    response = client.get(reverse("jobs:download", args=[job.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_a_large_export_is_a_job_whose_file_has_exactly_the_filtered_rows_in_korean_and_seoul_time(
    w, signed_in, file_case, small_threshold, django_capture_on_commit_callbacks
):
    mine = [file_case(w.agent, w.acme, title=f"Okapi {i}", priority="P2") for i in range(5)]
    file_case(w.agent, w.acme, title="Okapi other severity", priority="P4")
    file_case(w.agent2, w.initech, title="Okapi of another reseller", priority="P2")
    Case.objects.filter(pk=mine[0].pk).update(state=Case.State.ACTION_REQUIRED)
    w.agent.time_zone = "Asia/Seoul"
    w.agent.save(update_fields=["time_zone"])
    client = signed_in(w.agent, language="ko")

    job, response = start_export(client, "q=okapi&priority=P2", django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.row_count == 5
    assert job.params == {"priority": ["P2"], "q": ["okapi"]}

    rows = read_csv(download(client, job))
    header, body, footer = rows[0], rows[1:-1], rows[-1]
    assert [int(row[0]) for row in body] == listed_numbers(w.agent, "q=okapi&priority=P2")
    assert sorted(int(row[0]) for row in body) == sorted(c.number for c in mine)
    assert footer == ["내보내기 끝: 5건"]
    assert header[:4] == ["케이스 번호", "제목", "고객", "상태"]
    text = "\n".join(",".join(row) for row in rows)
    assert not RAW_CODES.search(text), RAW_CODES.search(text)
    by_number = {int(row[0]): row for row in body}
    first = by_number[mine[0].number]
    assert first[3] == "조치 필요" and first[8] in {"아니요", "아니오"}
    assert first[6] == mine[0].classification.display_name_ko
    created = first[9]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00", created), "Seoul time, no microseconds"

    # The page shows the count the file ends with.
    page = client.get(response.url).content.decode()
    assert "5" in page and reverse("jobs:download", args=[job.pk]) in page


def test_an_unfiltered_large_export_matches_the_list_and_the_page_shows_its_count(
    w, signed_in, small_threshold, django_capture_on_commit_callbacks
):
    client = signed_in(w.agent)
    job, _ = start_export(client, "", django_capture_on_commit_callbacks)
    job.refresh_from_db()
    rows = read_csv(download(client, job))
    expected = listed_numbers(w.agent, "")
    assert len(expected) > 3
    assert [int(row[0]) for row in rows[1:-1]] == expected
    assert rows[-1] == [f"End of export: {len(expected)} cases"] and job.row_count == len(expected)
    progress = client.get(reverse("jobs:progress", args=[job.pk])).content.decode()
    assert f"Ready: {len(expected)} rows" in progress and "hx-trigger" not in progress


def test_nobody_else_can_see_or_download_an_export(
    w, signed_in, small_threshold, django_capture_on_commit_callbacks, client
):
    job, _ = start_export(signed_in(w.agent), "", django_capture_on_commit_callbacks)
    for other in (w.admin, w.agent2, w.engineer, w.acme_user):
        client.force_login(other)
        for name in ("jobs:detail", "jobs:progress", "jobs:download"):
            assert client.get(reverse(name, args=[job.pk])).status_code == 404, (other, name)
    client.logout()
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 302  # to sign in


def test_a_download_is_refused_once_the_owner_lost_case_access(
    w, signed_in, small_threshold, django_capture_on_commit_callbacks
):
    client = signed_in(w.agent)
    job, _ = start_export(client, "", django_capture_on_commit_callbacks)
    RoleAssignment.objects.filter(user=w.agent).delete()
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404


def test_the_file_expires_after_a_day(w, signed_in, small_threshold, django_capture_on_commit_callbacks):
    client = signed_in(w.agent)
    job, _ = start_export(client, "", django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert timedelta(hours=23) < job.expires_at - timezone.now() <= timedelta(days=1)
    assert default_storage.exists(job.file_name)
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404
    assert jobs_cleanup_run()["expired"] == 1
    job.refresh_from_db()
    assert job.status == Job.Status.EXPIRED and not default_storage.exists(
        f"jobs/{job.pk}/{job.download_name}"
    )
    assert "expired" in client.get(reverse("jobs:detail", args=[job.pk])).content.decode()


def test_the_same_export_asked_twice_is_one_job(
    w, signed_in, small_threshold, django_capture_on_commit_callbacks
):
    client = signed_in(w.agent)
    first, _ = start_export(client, "priority=P3", django_capture_on_commit_callbacks)
    second, _ = start_export(client, "priority=P3", django_capture_on_commit_callbacks)
    other, _ = start_export(client, "priority=P2", django_capture_on_commit_callbacks)
    assert first.pk == second.pk != other.pk


def test_the_owner_gets_a_mail_with_the_link_in_their_language(
    w, signed_in, small_threshold, django_capture_on_commit_callbacks
):
    client = signed_in(w.agent, language="ko")
    job, _ = start_export(client, "", django_capture_on_commit_callbacks)
    row = OutboxMessage.objects.get(job=job)
    assert row.status == OutboxMessage.Status.SENT and row.recipient_user == w.agent
    sent = [m for m in mail.outbox if m.to == [w.agent.mail_address]]
    assert len(sent) == 1
    assert "준비" in sent[0].subject and f"/jobs/{job.pk}/" in sent[0].body


def test_a_small_export_streams_with_the_same_format_and_its_count(w, signed_in, file_case):
    cases = [file_case(w.agent, w.acme, title=f"Okapi {i}", priority="P2") for i in range(3)]
    response = signed_in(w.agent, language="ko").get(reverse("cases:export") + "?q=okapi")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = read_csv(b"".join(response.streaming_content))
    assert [int(row[0]) for row in rows[1:-1]] == [c.number for c in reversed(cases)]
    assert rows[-1] == ["내보내기 끝: 3건"]
    assert not RAW_CODES.search(str(rows))


def test_a_job_taken_up_too_often_fails_with_a_message_and_offers_no_file(w, signed_in, settings):
    job = Job.objects.create(user=w.agent, kind=Job.Kind.CASE_EXPORT, status=Job.Status.RUNNING)
    Job.objects.filter(pk=job.pk).update(attempts=settings.JOB_MAX_ATTEMPTS)
    assert job_begin(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "interrupted" in job.message
    client = signed_in(w.agent)
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404
    assert "interrupted" in client.get(reverse("jobs:progress", args=[job.pk])).content.decode()


def test_a_running_job_without_signs_of_life_is_failed_by_the_cleanup(w, settings):
    job = Job.objects.create(user=w.agent, kind=Job.Kind.CASE_EXPORT, status=Job.Status.RUNNING)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert jobs_cleanup_run()["failed"] == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.message and not job.file_name


def test_the_api_docs_page_says_lists_are_paged_never_cut(w, signed_in):
    for language, words in (("en", "A list is never cut"), ("ko", "목록은 절대 잘리지 않습니다")):
        page = signed_in(w.agent, language=language).get("/api/").content.decode()
        assert 'id="never-cut"' in page and words in page, language


def test_the_progress_fragment_costs_a_fixed_number_of_queries(
    w, signed_in, django_assert_max_num_queries, small_threshold, django_capture_on_commit_callbacks
):
    client = signed_in(w.agent)
    job, _ = start_export(client, "", django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(5):  # the session and account (as every page), then the job
        assert client.get(reverse("jobs:progress", args=[job.pk])).status_code == 200
