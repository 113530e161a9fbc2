"""The benchmark dataset: by default 1,000,000 cases over 20,000 customers and three
reseller domains, loaded through PostgreSQL COPY.

Shape (SPEC §8, issue 7):

- one reseller domain holds about 60% of the customers, the others 25% and 15%;
- cases per customer follow a Zipf law (exponent 1): a few customers hold thousands
  of cases, half of them hold ten or fewer;
- about five messages per case, about 1% of the cases with 50 to 90;
- attachment rows (metadata only: no file is stored), subscribers, the audit trail of
  every change, escalations on Premium customers, every state and severity;
- filing times over three years, newer ones more frequent; old cases are mostly
  closed; a few customers moved from one reseller to another (cases under both), some
  have a support partner, some turned consent off or have no portal access.

Everything random comes from one `random.Random(seed)`: the same seed and scale give the
same rows (timestamps are relative to the day of the load).

How it stays valid: every row is written with every database constraint in force
(checks, unique constraints, foreign keys checked per statement). The two search
triggers of migration 0003 (`cases_case_search_vector`, `cases_comment_search_vector`)
are disabled for the load and the search vector is computed in the same INSERT that
writes the case, with the formula of the trigger; the triggers are enabled again before
the transaction ends. The whole load is one transaction: if it fails, nothing is left
behind, and since `ALTER TABLE … DISABLE TRIGGER` is transactional, the triggers cannot
stay disabled either. The append-only and history triggers only refuse UPDATE and
DELETE, which the load never does, so they stay on.
"""

from __future__ import annotations

import json
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import AdminRole, Domain, OrgUnit, Partner, RoleAssignment, User
from cases.classifications import classification_tree_load
from cases.lifecycle import FIRST_RESPONSE_HOURS
from cases.models import Classification
from cases.rollups import rollup_rebuild_sql

BENCH_PASSWORD = "bench-pass-2024"  # benchmark accounts only, like the demo password
FULL_CASES = 1_000_000
FULL_CUSTOMERS = 20_000
DOMAIN_SHARES = (0.60, 0.25, 0.15)
ZIPF_EXPONENT = 1.0
YEARS = 3
DAY = 86_400
# The runner's search terms: the common one is in a large share of the cases, the rare
# one in about one case in ten thousand.
COMMON_TERM = "mail"
RARE_TERM = "kerberos"
RARE_RATE = 1 / 10_000
AGENTS_PER_DOMAIN = 20
ENGINEERS = 25
N = "\\N"  # NULL in COPY's text format


@dataclass(frozen=True)
class BenchNames:
    """Names of the generated tenants, derived from a prefix so that two datasets can
    live side by side (the tests load two sizes into one database)."""

    prefix: str = "bench"

    def reseller(self, index: int) -> str:
        return f"reseller{index + 1}.{self.prefix}.example"

    @property
    def support(self) -> str:
        return f"support.{self.prefix}.example"

    @property
    def agent(self) -> str:
        """The reseller agent of the biggest domain: the benchmark signs in as this one."""
        return f"agent@{self.reseller(0)}"

    @property
    def operator(self) -> str:
        """An operator (Django admin superuser) for the admin changelist peer."""
        return f"operator@{self.support}"

    def customer_domain(self, index: int) -> str:
        return f"c{index:05d}.{self.prefix}-customer.example"


@dataclass
class LoadReport:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def cases_per_minute(self) -> float:
        return self.counts.get("cases", 0) / self.seconds * 60 if self.seconds else 0.0


# --------------------------------------------------------------------------- text pools

CUSTOMER_WORDS_A = [
    "Hanbit",
    "Saebyeol",
    "Blue Harbor",
    "Northwind",
    "Golden Gate",
    "Namsan",
    "Seorak",
    "Jeju",
    "Silverline",
    "Evergreen",
    "Pacific",
    "Riverside",
    "Summit",
    "Orion",
    "Hangang",
    "Daehan",
    "Mirae",
    "Brightpath",
    "Crescent",
    "Lotus",
    "Maple",
    "Redwood",
    "Starlight",
    "Taebaek",
]
CUSTOMER_WORDS_B = [
    "Logistics",
    "Foods",
    "Clinic",
    "Academy",
    "Design",
    "Trading",
    "Labs",
    "Motors",
    "Media",
    "Pharma",
    "Textiles",
    "Electronics",
    "Construction",
    "Insurance",
    "Travel",
    "Energy",
    "Robotics",
    "Software",
    "Bakery",
    "Hotels",
    "Marine",
    "Capital",
    "Studio",
    "Farms",
]
CITIES = [
    ("Seoul", "KR"),
    ("Busan", "KR"),
    ("Incheon", "KR"),
    ("Daegu", "KR"),
    ("Tokyo", "JP"),
    ("Singapore", "SG"),
    ("Sydney", "AU"),
    ("Seongnam", "KR"),
]
PEOPLE = [
    "Kim Min-ji",
    "Lee Joon",
    "Park Seo-yeon",
    "Choi Hyun",
    "Jung Ha-eun",
    "Kang Do-yun",
    "Yoon Ji-ho",
    "Han So-ra",
    "Lim Tae-yang",
    "Oh Eun-bi",
    "Sato Yui",
    "Tan Wei",
]
TITLE_SUFFIXES = [
    "for several users",
    "since this morning",
    "after the last change",
    "for the finance team",
    "in the Seoul office",
    "for new employees",
    "on mobile devices",
    "intermittently",
    "after migrating from Exchange",
    "for external recipients",
    "since Monday",
    "for one organisational unit",
    "for all users",
    "after enabling SSO",
    "for shared mailboxes",
    "when mail is forwarded",
    "with error 403",
    "again after the fix",
    "for the sales team",
    "in the mail client",
]
DESCRIPTION_SENTENCES = [
    "About {n} users are affected.",
    "It started on {d} around {h}:00 local time.",
    "We already checked the admin console settings and the status dashboard.",
    "The problem happens on Chrome and on the mobile apps.",
    "Mail to external recipients is delayed by about {n} minutes.",
    'Users see the error message "Something went wrong" and a reload does not help.',
    "We followed the help center article but the result is the same.",
    "The mail log search shows the messages as delivered.",
    "Only users in the {ou} organisational unit are affected.",
    "A screenshot and the HAR file are attached.",
    "Our reseller contact asked us to open this case.",
    "The issue blocks the month-end closing of the accounting team.",
    "We changed the MX records {n} days ago.",
    "Sync with the directory runs every hour without errors.",
    "Rebooting the devices did not change anything.",
    "The audit log has no entry for the change.",
    "Mailbox delegation was set up last week for the assistants.",
    "The users can sign in, but the mail client keeps asking for the password.",
]
KOREAN_SENTENCES = [
    "사용자 {n}명이 영향을 받고 있습니다.",
    "{d} 오전부터 문제가 발생했습니다.",
    "관리 콘솔 설정과 상태 대시보드를 이미 확인했습니다.",
    "외부 수신자에게 보내는 메일이 약 {n}분 지연됩니다.",
    "도움말 문서대로 조치했지만 결과가 같습니다.",
    "스크린샷과 로그 파일을 첨부했습니다.",
    "재무팀의 월말 결산 업무가 중단되었습니다.",
    "모바일 앱과 Chrome 모두에서 같은 문제가 발생합니다.",
]
KOREAN_TITLE_SUFFIXES = ["문제가 발생합니다", "오류가 계속됩니다", "관련 문의", "이(가) 작동하지 않습니다"]
CUSTOMER_REPLIES = [
    "Thank you for the quick answer. We tried the steps and the problem is still there for {n} users.",
    "Here are the full headers of one affected message, as requested.",
    "We applied the change to the {ou} organisational unit. Please wait while we check with the users.",
    "The issue came back this morning. Can you please look at it again?",
    "Confirmed: after the change mail flows normally again. Thank you.",
    "Attached is the export from the audit log for the last {n} days.",
    "Our users in the {ou} team still see the error. What else can we check?",
    "We cannot reproduce it any more since yesterday afternoon.",
    "감사합니다. 안내해 주신 대로 설정을 변경했습니다.",
    "문제가 다시 발생했습니다. 다시 확인 부탁드립니다.",
]
SUPPORT_REPLIES = [
    "Thank you for contacting Google Workspace support. I am looking into this now.",
    "Could you please send the full message headers of one affected mail and the time it was sent?",
    "We found a misconfigured routing rule on the {ou} organisational unit. Please remove it and let us know.",
    "The engineering team confirmed a known issue; a fix is rolling out over the next {n} hours.",
    "Please clear the cached credentials on the affected devices and sign in again.",
    "I checked the logs on our side: the messages were accepted and delivered within {n} seconds.",
    "Could you confirm whether the problem also happens in an incognito window?",
    "The setting can take up to 24 hours to apply to every user of the domain.",
    "I will keep this case open for {n} more days in case the problem comes back.",
]
ORG_UNITS = ["Finance", "Sales", "Engineering", "Operations", "Marketing", "HR", "Seoul", "Busan"]
ATTACHMENTS = [
    ("screenshot.png", "image/png"),
    ("headers.txt", "text/plain"),
    ("error-log.txt", "text/plain"),
    ("audit-export.csv", "text/csv"),
    ("capture.har", "application/json"),
    ("settings.pdf", "application/pdf"),
    ("recording.mp4", "video/mp4"),
    ("screen-2.jpg", "image/jpeg"),
]
JUSTIFICATIONS = [
    "The month-end closing is blocked for the whole finance team.",
    "The case has been open for a week without a workaround.",
    "Hundreds of customers cannot reach our support mailbox.",
]
TIME_ZONES = ["Asia/Seoul", "Asia/Seoul", "Asia/Seoul", "Asia/Tokyo", "UTC", "Asia/Singapore"]


def copy_escape(text: str) -> str:
    """A value in COPY's text format: backslash, tab and line breaks escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        n=rng.randint(2, 400),
        d=f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        h=rng.randint(6, 22),
        ou=rng.choice(ORG_UNITS),
    )


class Timestamps:
    """Epoch seconds to PostgreSQL timestamptz text, fast: the hour part is cached."""

    def __init__(self) -> None:
        self._hours: dict[int, str] = {}

    def __call__(self, t: int) -> str:
        hour = t // 3600
        prefix = self._hours.get(hour)
        if prefix is None:
            prefix = self._hours[hour] = time.strftime("%Y-%m-%d %H:", time.gmtime(hour * 3600))
        rest = t - hour * 3600
        return f"{prefix}{rest // 60:02d}:{rest % 60:02d}+00"


# --------------------------------------------------------------------------- plan


@dataclass
class CustomerPlan:
    index: int
    id: int = 0
    domain_id: int = 0
    domain_name: str = ""
    tier: str = "STANDARD"
    portal_access: bool = True
    reseller: int = 0  # index into the reseller domains: the reseller of record now
    previous_reseller: int | None = None
    moved_at: int | None = None
    partner: int | None = None
    partner_since: int | None = None
    consent_off: bool = False
    users: list[tuple[int, str]] = field(default_factory=list)
    case_count: int = 0


def zipf_counts(total: int, buckets: int, exponent: float) -> list[int]:
    """`total` split over `buckets` by a Zipf law, every bucket at least 1 (when there is
    enough), largest first; the sum is exactly `total`."""
    weights = [1 / (rank**exponent) for rank in range(1, buckets + 1)]
    scale = total / sum(weights)
    counts = [max(1, int(w * scale)) if total >= buckets else int(w * scale) for w in weights]
    difference = total - sum(counts)
    index = 0
    while difference != 0:
        step = 1 if difference > 0 else -1
        if counts[index % buckets] + step >= (1 if total >= buckets else 0):
            counts[index % buckets] += step
            difference -= step
        index += 1
    return counts


def dataset_sizes(scale: float) -> tuple[int, int]:
    cases = max(1, round(FULL_CASES * scale))
    customers = max(12, min(cases, round(FULL_CUSTOMERS * scale)))
    return cases, customers


# --------------------------------------------------------------------------- database helpers


def _raw_cursor():
    connection.ensure_connection()
    return connection.connection.cursor()


def reserve_ids(cursor, table: str, count: int) -> int:
    """Take `count` consecutive ids from the table's identity sequence; returns the first."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s)", [sequence])
    first = cursor.fetchone()[0]
    if count > 1:
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def check_columns(cursor, table: str, columns: list[str]) -> None:
    """Refuse to load when the table gained a NOT NULL column without a default that the
    generator does not write (the schema moved on: update the generator)."""
    cursor.execute(
        """SELECT column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = %s
              AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'""",
        [table],
    )
    missing = sorted({row[0] for row in cursor.fetchall()} - set(columns) - {"id"})
    if missing:
        raise RuntimeError(f"{table} has required columns the generator does not write: {missing}")


def copy_rows(cursor, table: str, columns: list[str], data: str) -> None:
    if not data:
        return
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(data)


BULK_TABLES = ("cases_case", "cases_comment", "cases_attachment", "cases_caseevent", "cases_casesubscriber")


def secondary_structures(
    cursor, tables: tuple[str, ...]
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The foreign keys and the indexes that back no constraint on `tables`, with the
    SQL that recreates each exactly as it is."""
    cursor.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
             FROM pg_constraint
            WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
            ORDER BY conrelid::regclass::text, conname""",
        [list(tables)],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
             FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY i.indrelid::regclass::text, i.indexrelid::regclass::text""",
        [list(tables)],
    )
    indexes = cursor.fetchall()
    return foreign_keys, indexes


@contextmanager
def bulk_load_mode(cursor, tables: tuple[str, ...], log: Callable[[str], None]):
    """Load the way pg_restore does: without the foreign keys and the secondary indexes
    of `tables`, which are built again afterwards in one pass each. Re-adding a foreign
    key checks every row against its target in one query, and rebuilding a unique index
    checks uniqueness, so every constraint is enforced on the loaded rows, just in bulk
    instead of row by row. Only the primary keys and the unique constraints stay in
    place during the load. Must run inside the load's transaction: on failure the
    rollback restores everything."""
    foreign_keys, indexes = secondary_structures(cursor, tables)
    for table, name, _definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    began = time.monotonic()
    for _name, definition in indexes:
        cursor.execute(definition)
    built = time.monotonic()
    for table, name, definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    log(
        f"rebuilt {len(indexes)} indexes in {built - began:.1f} s, "
        f"checked {len(foreign_keys)} foreign keys in {time.monotonic() - built:.1f} s"
    )


# --------------------------------------------------------------------------- columns

USER_COLS = [
    "id",
    "password",
    "last_login",
    "is_superuser",
    "email",
    "full_name",
    "domain_id",
    "org_unit_id",
    "language",
    "time_zone",
    "notification_email",
    "is_active",
    "is_staff",
    "date_joined",
]
DOMAIN_COLS = ["id", "name", "kind", "partner_id"]
CUSTOMER_COLS = [
    "id",
    "name",
    "primary_domain_id",
    "support_tier",
    "portal_access",
    "address_line",
    "city",
    "postal_code",
    "country_code",
    "contact_name",
    "contact_email",
    "contact_phone",
    "created_at",
]
RELATIONSHIP_COLS = [
    "customer_id",
    "reseller_domain_id",
    "kind",
    "started_at",
    "ended_at",
    "started_by_id",
    "ended_by_id",
]
GRANT_COLS = ["id", "customer_id", "reseller_domain_id", "support_cases", "changed_at", "changed_by_id"]
GRANT_CHANGE_COLS = ["grant_id", "support_cases", "changed_at", "changed_by_id"]
ROLE_ASSIGNMENT_COLS = ["user_id", "role_id", "assigned_at", "assigned_by_id"]
CASE_COLS = [
    "id",
    "number",
    "customer_id",
    "managing_domain_id",
    "creator_id",
    "contact_email",
    "channel",
    "classification_id",
    "title",
    "description",
    "answers",
    "priority",
    "state",
    "language",
    "time_zone",
    "escalated_at",
    "escalated_by_id",
    "escalation_reason",
    "escalation_justification",
    "assignee_id",
    "first_response_at",
    "follow_up_of_id",
    "is_test",
    "request_key",
    "version",
    "created_at",
    "updated_at",
    "closed_at",
    # who owes the next reply and the response targets (cases.lifecycle.case_due_times)
    "waiting_on",
    "waiting_since",
    "first_response_due_at",
    "next_response_due_at",
]
COMMENT_COLS = ["id", "case_id", "author_id", "author_email", "from_support", "body", "created_at"]
ATTACHMENT_COLS = [
    "case_id",
    "file",
    "filename",
    "mime_type",
    "size",
    "sha256",
    "uploader_id",
    "created_at",
    "deleted_at",
    "deleted_by_id",
    "deletion_reason",
]
EVENT_COLS = ["case_id", "actor_id", "actor_email", "kind", "field", "before", "after", "created_at"]
SUBSCRIBER_COLS = ["case_id", "email", "added_by_id", "added_at"]

# The formula of the trigger cases_case_search_vector (migration 0003), with the messages'
# text passed along instead of read back from cases_comment.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A')"
    " || setweight(to_tsvector('simple', coalesce(description, '')), 'B')"
    " || coalesce(setweight(to_tsvector('simple', comments_text), 'C'), ''::tsvector)"
)
SEARCH_TRIGGER_TABLES = ("cases_case", "cases_comment")


# --------------------------------------------------------------------------- the generator


class CaseGenerator:
    """Builds the COPY text of a chunk of cases with everything that hangs off them."""

    def __init__(self, *, rng, now, start, customers, agents, engineers, leaves, reseller_ids):
        self.rng = rng
        self.now = now
        self.start = start
        self.customers = customers
        self.agents = agents  # reseller index -> [(id, email)]
        self.engineers = engineers
        self.leaves = leaves
        self.reseller_ids = reseller_ids
        self.ts = Timestamps()
        self.base = settings.CASE_NUMBER_BASE
        self.titles_en, self.titles_ko, self.answers = self._leaf_pools()
        self.descriptions_en = [self._paragraph(DESCRIPTION_SENTENCES, 2, 4) for _ in range(3000)]
        self.descriptions_ko = [self._paragraph(KOREAN_SENTENCES, 2, 3) for _ in range(500)]
        self.customer_replies = [copy_escape(_fill(rng.choice(CUSTOMER_REPLIES), rng)) for _ in range(2000)]
        self.support_replies = [copy_escape(_fill(rng.choice(SUPPORT_REPLIES), rng)) for _ in range(2000)]
        self.rare = copy_escape(
            f"\n\nSince the change, {RARE_TERM.capitalize()} tickets fail for the affected users."
        )

    def _paragraph(self, sentences, low, high) -> str:
        rng = self.rng
        text = " ".join(_fill(rng.choice(sentences), rng) for _ in range(rng.randint(low, high)))
        if rng.random() < 0.3:
            text += "\n\n" + _fill(rng.choice(sentences), rng)
        return copy_escape(text)

    def _leaf_pools(self):
        titles_en, titles_ko, answers = [], [], []
        for leaf in self.leaves:
            product = leaf.display_name.split(" > ")[0]
            titles_en.append(
                [copy_escape(f"{product}: {leaf.name.lower()} {suffix}")[:200] for suffix in TITLE_SUFFIXES]
                + [copy_escape(f"{leaf.name} {suffix}")[:200] for suffix in TITLE_SUFFIXES[:8]]
            )
            titles_ko.append(
                [copy_escape(f"{leaf.name_ko} {suffix}")[:200] for suffix in KOREAN_TITLE_SUFFIXES]
            )
            answers.append(
                copy_escape(
                    json.dumps(
                        {str(i): "See the description." for i in range(len(leaf.questions))},
                        ensure_ascii=False,
                    )
                )
            )
        return titles_en, titles_ko, answers

    def chunk(self, first_id: int, first_comment_id: int, plan: list[tuple[int, int]]) -> dict:
        """COPY text for the cases `first_id`, `first_id + 1`, … described by `plan`
        ((customer index, filed at, state, number of messages) each), and their messages
        (ids from `first_comment_id` on), attachments, subscribers and events."""
        rng = self.rng
        rnd = rng.random
        ts = self.ts
        now = self.now
        cases, comments, attachments, events, subscribers = [], [], [], [], []
        comment_id = first_comment_id
        engineers = self.engineers
        n_engineers = len(engineers)
        n_leaves = len(self.leaves)
        for offset, (customer_index, t0, state, n_comments) in enumerate(plan):
            case_id = first_id + offset
            customer = self.customers[customer_index]
            age = now - t0
            reseller = (
                customer.previous_reseller
                if customer.moved_at is not None and t0 < customer.moved_at
                else customer.reseller
            )
            domain_id = self.reseller_ids[reseller]
            users = customer.users
            r = rnd()
            if r < 0.70:
                channel = "DELEGATED"
                agents = self.agents[reseller]
                creator = agents[int(rnd() * len(agents))]
            else:
                channel = "PORTAL" if r < 0.94 else ("API" if r < 0.99 else "EMAIL")
                creator = users[int(rnd() * len(users))]
            customer_side = creator
            creator_id = str(creator[0]) if channel != "EMAIL" else N
            r = rnd()
            priority = (
                "P0" if r < 0.005 else "P1" if r < 0.06 else "P2" if r < 0.26 else "P3" if r < 0.76 else "P4"
            )
            limit = max(age - 60, 60)
            if state == "CLOSED":
                span = min(int(rng.expovariate(1 / (9 * DAY))) + 3600 * (1 + n_comments), limit)
            else:
                span = int(limit * (0.5 + 0.5 * rnd()))
            span = max(span, 60)
            end = t0 + span
            leaf_index = int(rnd() * n_leaves)
            korean = rnd() < 0.10
            if korean:
                pool = self.titles_ko[leaf_index]
                title = pool[int(rnd() * len(pool))]
                description = self.descriptions_ko[int(rnd() * len(self.descriptions_ko))]
                language = "ko"
            else:
                pool = self.titles_en[leaf_index]
                title = pool[int(rnd() * len(pool))]
                description = self.descriptions_en[int(rnd() * len(self.descriptions_en))]
                language = "en" if rnd() < 0.9 else "ja"
            if rnd() < RARE_RATE:
                description += self.rare
            events.append(
                f"{case_id}\t{customer_side[0] if channel != 'EMAIL' else N}\t{customer_side[1]}\tCREATED\t\t\\N\t"
                f'{{"title": "{title[:40].replace(chr(92), "").replace(chr(34), "")}", "priority": "{priority}"}}'
                f"\t{ts(t0)}\n"
            )
            # messages: customer side and support take turns
            bodies = []
            first_response = None
            for i in range(n_comments):
                at = t0 + (span * (i + 1)) // (n_comments + 2)
                if i % 2 == 1 and state != "NEW":
                    author = engineers[(case_id + i) % n_engineers]
                    body = self.support_replies[int(rnd() * 2000)]
                    support = "t"
                    if first_response is None:
                        first_response = at
                else:
                    author = customer_side if channel != "EMAIL" else users[0]
                    body = self.customer_replies[int(rnd() * 2000)]
                    support = "f"
                bodies.append(body)
                comments.append(
                    f"{comment_id}\t{case_id}\t{author[0]}\t{author[1]}\t{support}\t{body}\t{ts(at)}\n"
                )
                events.append(
                    f'{case_id}\t{author[0]}\t{author[1]}\tCOMMENTED\t\t\\N\t{{"comment": {comment_id}}}\t{ts(at)}\n'
                )
                comment_id += 1
            changes = 0
            assignee = N
            if state != "NEW":
                engineer = engineers[case_id % n_engineers]
                picked = t0 + span // (2 * (n_comments + 2))
                events.append(
                    f'{case_id}\t{engineer[0]}\t{engineer[1]}\tSTATE_CHANGED\tstate\t"NEW"\t'
                    f'"IN_PROGRESS_GOOGLE_SUPPORT"\t{ts(picked)}\n'
                )
                changes += 1
                if rnd() < 0.7:
                    assignee = str(engineer[0])
                    events.append(
                        f'{case_id}\t{engineer[0]}\t{engineer[1]}\tASSIGNED\tassignee\t\\N\t"{engineer[1]}"\t{ts(picked)}\n'
                    )
                    changes += 1
                if state in ("ACTION_REQUIRED", "SOLUTION_PROVIDED"):
                    events.append(
                        f"{case_id}\t{engineer[0]}\t{engineer[1]}\tSTATE_CHANGED\tstate\t"
                        f'"IN_PROGRESS_GOOGLE_SUPPORT"\t"{state}"\t{ts(end)}\n'
                    )
                    changes += 1
                elif state == "CLOSED":
                    events.append(
                        f"{case_id}\t{engineer[0]}\t{engineer[1]}\tSTATE_CHANGED\tstate\t"
                        f'"IN_PROGRESS_GOOGLE_SUPPORT"\t"SOLUTION_PROVIDED"\t{ts(end - 30)}\n'
                    )
                    closer = customer_side if channel != "EMAIL" else users[0]
                    events.append(
                        f"{case_id}\t{closer[0]}\t{closer[1]}\tSTATE_CHANGED\tstate\t"
                        f'"SOLUTION_PROVIDED"\t"CLOSED"\t{ts(end)}\n'
                    )
                    changes += 2
                if priority == "P0":
                    events.append(
                        f'{case_id}\t{engineer[0]}\t{engineer[1]}\tPRIORITY_CHANGED\tpriority\t"P1"\t"P0"\t'
                        f"{ts(picked)}\n"
                    )
                    changes += 1
                elif rnd() < 0.03:
                    before = "P3" if priority != "P3" else "P4"
                    events.append(
                        f'{case_id}\t{users[0][0]}\t{users[0][1]}\tPRIORITY_CHANGED\tpriority\t"{before}"\t'
                        f'"{priority}"\t{ts(t0 + span // 3)}\n'
                    )
                    changes += 1
            escalated_at = escalated_by = N
            reason = justification = ""
            if customer.tier == "PREMIUM" and state != "NEW" and rnd() < 0.10:
                at = t0 + span // 5
                escalator = users[0]
                escalated_at, escalated_by = ts(at), str(escalator[0])
                reason = ("RESOLUTION_TIME", "TECHNICAL_EXPERTISE", "BUSINESS_IMPACT")[int(rnd() * 3)]
                justification = JUSTIFICATIONS[int(rnd() * len(JUSTIFICATIONS))]
                events.append(
                    f"{case_id}\t{escalator[0]}\t{escalator[1]}\tESCALATED\tescalation\t\\N\t"
                    f'{{"reason": "{reason}"}}\t{escalated_at}\n'
                )
                changes += 1
            # attachments (metadata only)
            r = rnd()
            n_attachments = 0 if r < 0.62 else 1 if r < 0.9 else 2 if r < 0.97 else 3
            for _a in range(n_attachments):
                filename, mime = ATTACHMENTS[int(rnd() * len(ATTACHMENTS))]
                at = t0 + int(span * rnd() * 0.9)
                uploader = customer_side if channel != "EMAIL" else users[0]
                if rnd() < 0.02:
                    deleter = engineers[int(rnd() * n_engineers)]
                    deleted = f"{ts(at + 600)}\t{deleter[0]}\tContains personal data of a user"
                    events.append(
                        f"{case_id}\t{deleter[0]}\t{deleter[1]}\tATTACHMENT_DELETED\t\t"
                        f'{{"filename": "{filename}"}}\t{{"reason": "Contains personal data of a user"}}'
                        f"\t{ts(at + 600)}\n"
                    )
                    changes += 1
                else:
                    deleted = "\\N\t\\N\t"
                attachments.append(
                    f"{case_id}\t\t{filename}\t{mime}\t{rng.randint(2_000, 9_000_000)}\t"
                    f"{rng.getrandbits(256):064x}\t{uploader[0]}\t{ts(at)}\t{deleted}\n"
                )
                events.append(
                    f"{case_id}\t{uploader[0]}\t{uploader[1]}\tATTACHMENT_ADDED\t\t\\N\t"
                    f'{{"filename": "{filename}"}}\t{ts(at)}\n'
                )
                changes += 1
            if rnd() < 0.08:
                for local in ("it-team", "ops")[: 1 + int(rnd() * 2)]:
                    email = f"{local}@{customer.domain_name}"
                    subscribers.append(f"{case_id}\t{email}\t{users[0][0]}\t{ts(t0)}\n")
                    events.append(
                        f'{case_id}\t{users[0][0]}\t{users[0][1]}\tSUBSCRIBER_ADDED\tsubscribers\t\\N\t"{email}"\t{ts(t0)}\n'
                    )
                    changes += 1
            closed_at = ts(end) if state == "CLOSED" else N
            # Who owes the next reply, as the services keep it: the customer side while the
            # case waits on it or after a support message, support otherwise.
            last_at = t0 + (span * n_comments) // (n_comments + 2) if n_comments else t0
            support_last = n_comments and (n_comments - 1) % 2 == 1 and state != "NEW"
            first_due = t0 + int(FIRST_RESPONSE_HOURS[customer.tier][priority] * 3600)
            next_due = None
            if state == "CLOSED":
                waiting_on, waiting_since = "", N
            elif state in ("ACTION_REQUIRED", "SOLUTION_PROVIDED"):
                waiting_on, waiting_since = "CUSTOMER", ts(end)
            elif support_last:
                waiting_on, waiting_since = "CUSTOMER", ts(last_at)
            else:
                waiting_on, waiting_since = "SUPPORT", ts(last_at)
                next_due = (
                    first_due
                    if first_response is None
                    else last_at + int(settings.CASE_NEXT_RESPONSE_HOURS[customer.tier][priority] * 3600)
                )
            due_columns = f"{waiting_on}\t{waiting_since}\t{ts(first_due)}\t{ts(next_due) if next_due else N}"
            comments_text = " ".join(bodies) if bodies else N
            cases.append(
                f"{case_id}\t{self.base + case_id}\t{customer.id}\t{domain_id}\t{creator_id}\t{customer_side[1]}\t"
                f"{channel}\t{self.leaves[leaf_index].pk}\t{title}\t{description}\t{self.answers[leaf_index]}\t"
                f"{priority}\t{state}\t{language}\t{TIME_ZONES[case_id % len(TIME_ZONES)]}\t"
                f"{escalated_at}\t{escalated_by}\t{reason}\t{justification}\t{assignee}\t"
                f"{ts(first_response) if first_response is not None else N}\t\\N\tf\t\\N\t"
                f"{1 + changes + n_comments}\t{ts(t0)}\t{ts(end)}\t{closed_at}\t{due_columns}\t{comments_text}\n"
            )
        return {
            "cases": "".join(cases),
            "comments": "".join(comments),
            "attachments": "".join(attachments),
            "events": "".join(events),
            "subscribers": "".join(subscribers),
            "n_comments": comment_id - first_comment_id,
            "n_cases": len(plan),
            "n_attachments": len(attachments),
            "n_events": len(events),
        }


def case_outline(rng: random.Random, *, age: int) -> tuple[str, int]:
    """The state of a case filed `age` seconds ago and how many messages it has: old
    cases are mostly closed; about five messages a case, about 1% with 50 to 90."""
    r = rng.random()
    if age > 60 * DAY:
        state = "CLOSED" if r < 0.97 else ("IN_PROGRESS_GOOGLE_SUPPORT", "ACTION_REQUIRED")[int(r * 1000) % 2]
    elif r < 0.15:
        state = "NEW"
    elif r < 0.45:
        state = "IN_PROGRESS_GOOGLE_SUPPORT"
    elif r < 0.60:
        state = "ACTION_REQUIRED"
    elif r < 0.75:
        state = "SOLUTION_PROVIDED"
    else:
        state = "CLOSED"
    if state == "NEW":
        n_comments = 1 if rng.random() < 0.3 else 0
    elif rng.random() < 0.012:
        n_comments = rng.randint(50, 90)
    else:
        n_comments = 1 + min(int(rng.expovariate(1 / 4.2)), 40)
    return state, n_comments


# --------------------------------------------------------------------------- the load


def _builtin_roles() -> dict[str, AdminRole]:
    return {
        code: AdminRole.objects.get_or_create(builtin=code, defaults={"name": str(label)})[0]
        for code, label in AdminRole.BuiltIn.choices
    }


def dataset_load(
    *,
    scale: float = 1.0,
    seed: int = 7,
    prefix: str = "bench",
    chunk_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> LoadReport:
    """Load a dataset of `scale` × one million cases under the tenant names of `prefix`.
    Needs PostgreSQL. Runs in one transaction (see the module docstring); refuses when
    a dataset with this prefix is already there."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The benchmark dataset needs PostgreSQL (set DATABASE_URL).")
    names = BenchNames(prefix)
    if Domain.objects.filter(name=names.reseller(0)).exists():
        raise RuntimeError(f"A dataset named {prefix!r} is already loaded; use another prefix or --flush.")
    started = time.monotonic()
    rng = random.Random(seed)
    n_cases, n_customers = dataset_sizes(scale)
    now = int(timezone.now().timestamp()) // 60 * 60
    start = now - YEARS * 365 * DAY
    report = LoadReport()
    password = make_password(BENCH_PASSWORD)
    with transaction.atomic():
        cursor = _raw_cursor()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL synchronous_commit = off")
        classification_tree_load()
        leaves = list(Classification.objects.filter(is_leaf=True).order_by("code"))
        roles = _builtin_roles()

        # ---- reseller domains, the support organisation, their people (ORM: a few rows)
        partner_one = Partner.objects.create(name=f"{prefix} partner one")
        partner_two = Partner.objects.create(name=f"{prefix} partner two")
        resellers = [
            Domain.objects.create(
                name=names.reseller(i),
                kind=Domain.Kind.RESELLER,
                partner=partner_one if i < 2 else partner_two,
            )
            for i in range(len(DOMAIN_SHARES))
        ]
        support = Domain.objects.create(name=names.support, kind=Domain.Kind.SUPPORT)
        joined = timezone.now().replace(microsecond=0) - timezone.timedelta(days=YEARS * 365 + 60)
        agents: dict[int, list[tuple[int, str]]] = {}
        named: list[User] = []
        for i, domain in enumerate(resellers):
            unit = OrgUnit.objects.create(domain=domain, name="Support staff")
            people = [
                User(email=f"admin@{domain.name}", full_name="Super Admin", domain=domain, org_unit=unit),
                User(email=f"agent@{domain.name}", full_name="Reseller Agent", domain=domain, org_unit=unit),
                *(
                    User(
                        email=f"agent{k:02d}@{domain.name}",
                        full_name=PEOPLE[k % len(PEOPLE)],
                        domain=domain,
                        org_unit=unit,
                    )
                    for k in range(1, AGENTS_PER_DOMAIN)
                ),
            ]
            for person in people:
                person.password = password
                person.date_joined = joined
            User.objects.bulk_create(people)
            RoleAssignment.objects.bulk_create(
                [
                    RoleAssignment(
                        user=people[0], role=roles[AdminRole.BuiltIn.SUPER_ADMIN], assigned_at=joined
                    )
                ]
                + [
                    RoleAssignment(
                        user=person, role=roles[AdminRole.BuiltIn.RESELLER_ADMIN], assigned_at=joined
                    )
                    for person in people[1:]
                ]
            )
            agents[i] = [(p.pk, p.email) for p in people[1:]]
            named += people[:2]
        staff = [
            User(email=f"engineer{k:02d}@{support.name}", full_name=PEOPLE[k % len(PEOPLE)], domain=support)
            for k in range(ENGINEERS)
        ]
        operator = User(
            email=names.operator, full_name="Operator", domain=support, is_staff=True, is_superuser=True
        )
        for person in [*staff, operator]:
            person.password = password
            person.date_joined = joined
        User.objects.bulk_create([*staff, operator])
        engineers = [(p.pk, p.email) for p in staff]
        named += [staff[0], operator]
        _email_addresses(named)

        # ---- customers: who they are, which reseller, how many cases
        counts = zipf_counts(n_cases, n_customers, ZIPF_EXPONENT)
        customers = [CustomerPlan(index=i, case_count=counts[i]) for i in range(n_customers)]
        for c in customers:
            r = rng.random()
            c.reseller = (
                0 if c.index == 0 else (0 if r < DOMAIN_SHARES[0] else 1 if r < 1 - DOMAIN_SHARES[2] else 2)
            )
            r = rng.random()
            c.tier = (
                "PREMIUM"
                if r < 0.10 + (0.3 if c.index < 100 else 0)
                else "ENHANCED"
                if r < 0.40
                else "STANDARD"
            )
            c.portal_access = c.index == 0 or rng.random() > 0.03
            if c.index > 0 and rng.random() < 0.03:  # moved from another reseller
                c.previous_reseller = (c.reseller + 1 + rng.randrange(2)) % 3
                c.moved_at = start + rng.randrange(60 * DAY, YEARS * 365 * DAY - 30 * DAY)
            if c.index > 0 and rng.random() < 0.02:  # a support partner
                candidates = [d for d in range(3) if d != c.reseller and d != c.previous_reseller]
                c.partner = candidates[rng.randrange(len(candidates))]
                c.partner_since = start + rng.randrange(30 * DAY, YEARS * 365 * DAY)
            c.consent_off = c.index > 0 and rng.random() < 0.04
        first_domain = reserve_ids(cursor, "accounts_domain", n_customers)
        first_customer = reserve_ids(cursor, "customers_customer", n_customers)
        users_per_customer = [1 + (c.index < 200) * 3 + int(rng.random() * 3) for c in customers]
        first_user = reserve_ids(cursor, "accounts_user", sum(users_per_customer))
        ts = Timestamps()
        domain_rows, customer_rows, user_rows, role_rows = [], [], [], []
        user_id = first_user
        super_admin = roles[AdminRole.BuiltIn.SUPER_ADMIN].pk
        customer_since = ts(start - 90 * DAY)
        for c, n_users in zip(customers, users_per_customer, strict=True):
            c.id = first_customer + c.index
            c.domain_id = first_domain + c.index
            c.domain_name = names.customer_domain(c.index)
            name = (
                f"{CUSTOMER_WORDS_A[rng.randrange(len(CUSTOMER_WORDS_A))]} "
                f"{CUSTOMER_WORDS_B[rng.randrange(len(CUSTOMER_WORDS_B))]} {c.index:05d}"
            )
            city, country = CITIES[rng.randrange(len(CITIES))]
            contact = PEOPLE[rng.randrange(len(PEOPLE))]
            domain_rows.append(f"{c.domain_id}\t{c.domain_name}\tCUSTOMER\t\\N\n")
            customer_rows.append(
                f"{c.id}\t{name}\t{c.domain_id}\t{c.tier}\t{'t' if c.portal_access else 'f'}\t"
                f"{rng.randint(1, 300)} Teheran-ro\t{city}\t{rng.randint(10000, 99999)}\t{country}\t{contact}\t"
                f"admin@{c.domain_name}\t+82 2 555 {rng.randint(1000, 9999)}\t{customer_since}\n"
            )
            for k in range(n_users):
                email = f"admin@{c.domain_name}" if k == 0 else f"user{k}@{c.domain_name}"
                full_name = contact if k == 0 else PEOPLE[rng.randrange(len(PEOPLE))]
                language = "ko" if rng.random() < 0.3 else "en"
                user_rows.append(
                    f"{user_id}\t{password}\t\\N\tf\t{email}\t{full_name}\t{c.domain_id}\t\\N\t{language}\t"
                    f"Asia/Seoul\t\tt\tf\t{customer_since}\n"
                )
                c.users.append((user_id, email))
                if k == 0:
                    role_rows.append(f"{user_id}\t{super_admin}\t{customer_since}\t\\N\n")
                user_id += 1
        _copy_checked(cursor, "accounts_domain", DOMAIN_COLS, "".join(domain_rows))
        _copy_checked(cursor, "customers_customer", CUSTOMER_COLS, "".join(customer_rows))
        _copy_checked(cursor, "accounts_user", USER_COLS, "".join(user_rows))
        _copy_checked(cursor, "accounts_roleassignment", ROLE_ASSIGNMENT_COLS, "".join(role_rows))

        # ---- relationships (history kept) and consent (audited)
        reseller_ids = [d.pk for d in resellers]
        relationship_rows, grant_rows, change_rows = [], [], []
        grants = []  # (customer, reseller index, on, changed at, by)
        for c in customers:
            admin_id = c.users[0][0]
            began = start - 60 * DAY
            if c.moved_at is not None:
                relationship_rows.append(
                    f"{c.id}\t{reseller_ids[c.previous_reseller]}\tRESELLER\t{ts(began)}\t{ts(c.moved_at)}\t\\N\t\\N\n"
                )
                relationship_rows.append(
                    f"{c.id}\t{reseller_ids[c.reseller]}\tRESELLER\t{ts(c.moved_at)}\t\\N\t\\N\t\\N\n"
                )
                grants.append((c, c.previous_reseller, True, began, admin_id))
                grants.append((c, c.reseller, not c.consent_off, c.moved_at, admin_id))
            else:
                relationship_rows.append(
                    f"{c.id}\t{reseller_ids[c.reseller]}\tRESELLER\t{ts(began)}\t\\N\t\\N\t\\N\n"
                )
                grants.append((c, c.reseller, not c.consent_off, began, admin_id))
            if c.partner is not None:
                relationship_rows.append(
                    f"{c.id}\t{reseller_ids[c.partner]}\tSUPPORT_PARTNER\t{ts(c.partner_since)}\t\\N\t{admin_id}\t\\N\n"
                )
                grants.append((c, c.partner, True, c.partner_since, admin_id))
        first_grant = reserve_ids(cursor, "customers_accessgrant", len(grants))
        for offset, (c, reseller, on, at, by) in enumerate(grants):
            grant_id = first_grant + offset
            changed = at if on else at + 30 * DAY
            grant_rows.append(
                f"{grant_id}\t{c.id}\t{reseller_ids[reseller]}\t{'t' if on else 'f'}\t{ts(changed)}\t{by}\n"
            )
            change_rows.append(f"{grant_id}\tt\t{ts(at)}\t{by}\n")
            if not on:
                change_rows.append(f"{grant_id}\tf\t{ts(changed)}\t{by}\n")
        _copy_checked(cursor, "customers_relationship", RELATIONSHIP_COLS, "".join(relationship_rows))
        _copy_checked(cursor, "customers_accessgrant", GRANT_COLS, "".join(grant_rows))
        _copy_checked(cursor, "customers_accessgrantchange", GRANT_CHANGE_COLS, "".join(change_rows))
        log(
            f"{n_customers} customers over {len(resellers)} reseller domains, "
            f"{sum(users_per_customer)} customer users, {len(relationship_rows)} relationships"
        )

        # ---- cases: who filed when; filing order is id order, as in production
        case_customer = [c.index for c in customers for _k in range(c.case_count)]
        rng.shuffle(case_customer)
        # newer cases more frequent: the filing rate grows over the three years
        filed = sorted(start + int(YEARS * 365 * DAY * math.sqrt(rng.random())) for _ in range(n_cases))
        filed = [min(t, now - 120) for t in filed]
        first_case = reserve_ids(cursor, "cases_case", n_cases)
        generator = CaseGenerator(
            rng=rng,
            now=now,
            start=start,
            customers=customers,
            agents=agents,
            engineers=engineers,
            leaves=leaves,
            reseller_ids=reseller_ids,
        )
        for table, columns in (
            ("cases_case", CASE_COLS),
            ("cases_comment", COMMENT_COLS),
            ("cases_attachment", ATTACHMENT_COLS),
            ("cases_caseevent", EVENT_COLS),
            ("cases_casesubscriber", SUBSCRIBER_COLS),
        ):
            check_columns(cursor, table, columns)
        cursor.execute(
            "CREATE TEMP TABLE bench_stage_case ON COMMIT DROP AS "
            f"SELECT {', '.join(CASE_COLS)}, ''::text AS comments_text FROM cases_case WITH NO DATA"
        )
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        with bulk_load_mode(cursor, BULK_TABLES, log):
            for table in SEARCH_TRIGGER_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            totals = {"cases": 0, "comments": 0, "attachments": 0, "events": 0}
            plan = [
                (customer, t, *case_outline(rng, age=now - t))
                for customer, t in zip(case_customer, filed, strict=True)
            ]
            first_comment = reserve_ids(cursor, "cases_comment", sum(entry[3] for entry in plan))
            spent: dict[str, float] = {}

            @contextmanager
            def timed(step: str):
                began = time.monotonic()
                yield
                spent[step] = spent.get(step, 0.0) + time.monotonic() - began

            for chunk in _pipeline(generator, first_case, first_comment, plan, chunk_size):
                with timed("cases"):
                    copy_rows(cursor, "bench_stage_case", [*CASE_COLS, "comments_text"], chunk["cases"])
                    cursor.execute(
                        f"INSERT INTO cases_case ({', '.join(CASE_COLS)}, search_vector) "
                        f"SELECT {', '.join(CASE_COLS)}, {SEARCH_VECTOR_SQL} FROM bench_stage_case ORDER BY id"
                    )
                    cursor.execute("TRUNCATE bench_stage_case")
                for step, table, columns in (
                    ("comments", "cases_comment", COMMENT_COLS),
                    ("attachments", "cases_attachment", ATTACHMENT_COLS),
                    ("events", "cases_caseevent", EVENT_COLS),
                    ("subscribers", "cases_casesubscriber", SUBSCRIBER_COLS),
                ):
                    with timed(step):
                        copy_rows(cursor, table, columns, chunk[step])
                for key in totals:
                    totals[key] += chunk[f"n_{key}"]
                if progress:
                    progress(chunk["n_cases"], n_cases)
            log("seconds per step: " + ", ".join(f"{step} {seconds:.1f}" for step, seconds in spent.items()))
            for table in SEARCH_TRIGGER_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        # The dashboard's rollup trigger was off with the others: count it from the cases.
        with timed("dashboard rollup"):
            cursor.execute(rollup_rebuild_sql())
        cursor.execute("DROP TABLE bench_stage_case")
        report.counts = {"customers": n_customers, **totals}
    report.seconds = time.monotonic() - started
    return report


def _copy_checked(cursor, table: str, columns: list[str], data: str) -> None:
    check_columns(cursor, table, columns)
    copy_rows(cursor, table, columns, data)


def _email_addresses(users: list[User]) -> None:
    """allauth's verified primary address for the accounts people sign in with."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users]
    )


def _pipeline(
    generator: CaseGenerator, first_case: int, first_comment: int, plan, chunk_size: int
) -> Iterator[dict]:
    """Generate chunk k+1 in a thread while the database writes chunk k: Python and
    PostgreSQL each keep one core busy. The thread never touches the database."""
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            comment_id = first_comment
            for begin in range(0, len(plan), chunk_size):
                if stop.is_set():
                    return
                part = plan[begin : begin + chunk_size]
                chunks.put(("chunk", generator.chunk(first_case + begin, comment_id, part)))
                comment_id += sum(entry[3] for entry in part)
            chunks.put(("done", None))
        except BaseException as error:  # handed to the consumer, which raises it
            chunks.put(("error", error))

    thread = threading.Thread(target=produce, name="bench-generator", daemon=True)
    thread.start()
    try:
        while True:
            kind, payload = chunks.get()
            if kind == "done":
                return
            if kind == "error":
                raise payload
            yield payload
    finally:
        stop.set()
        while thread.is_alive():
            try:
                chunks.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.1)
