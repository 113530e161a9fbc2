"""Every page of every persona at 390 and 1366 px, in English and Korean (issue 12): the
document is never wider than the viewport, axe-core finds no serious or critical
violation, and a screenshot of each is kept under test-artifacts/.

One browser, one live server, one signed-in context per persona and language; each page
is loaded once and measured at both widths."""

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError

from accounts.models import User
from tests.e2e.conftest import sign_in
from tests.e2e.pages import page_routes, page_urls, routes
from tests.world import PERSONAS

pytestmark = pytest.mark.e2e

ARTIFACTS = Path("test-artifacts/pages")
WIDTHS = (1366, 390)
# One persona of each kind: reseller agent, reseller super admin, customer super admin,
# customer user, support engineer, and a reseller account without any role.
CRAWLED = ("agent", "admin", "acme_admin", "acme_user", "engineer", "nobody")
AXE = Axe()
AXE_OPTIONS = {"resultTypes": ["violations"], "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}

# Korean pages: English words allowed (product names, protocol words, demo data).
ALLOWED_ENGLISH = {
    "google",
    "workspace",
    "gmail",
    "cloud",
    "identity",
    "api",
    "csv",
    "mfa",
    "totp",
    "id",
    "url",
    "json",
    "p0",
    "p1",
    "p2",
    "p3",
    "p4",
    "kst",
    "utc",
    "gmt",
    "ok",
    "openapi",
    "oauth",
    "bearer",
    "curl",
    "http",
    "https",
    "v2",
    "python",
    "reseller",
    "support",
    "portal",  # the product name's domain words in addresses
    # a language's own name, a licence's product name, a country code, file types and units
    "english",
    "français",
    "fran",
    "ais",
    "free",
    "kr",
    "mb",
    "kb",
    "zip",
    "har",
    "ip",
    # product names inside the category questions' Korean text ("Active Directory", "LDAP")
    "active",
    "directory",
    "ldap",
}
RAW_ENUMS = re.compile(
    r"\b(NEW|IN_PROGRESS_GOOGLE_SUPPORT|ACTION_REQUIRED|SOLUTION_PROVIDED|CLOSED|STANDARD|ENHANCED|PREMIUM|"
    r"PORTAL|DELEGATED|RESOLUTION_TIME|TECHNICAL_EXPERTISE|BUSINESS_IMPACT|RESELLER_VIEW_CUSTOMERS|"
    r"RESELLER_ACCESS_CUSTOMER_CASES|MANAGE_USERS|MANAGE_ROLES|SUPPORT_PARTNER)\b"
)


def test_every_route_is_crawled_or_excluded():
    names = {name for name, _, _ in page_routes()}
    assert {"home", "cases:list", "cases:detail", "customers:detail", "settings", "support:queue"} <= names
    assert len(names) >= 20, names
    assert all(
        name for name, route, _ in routes() if not route.startswith(("django-admin", "^", "supportcenter"))
    )


# The text a person reads as the portal's words: not code samples (API literals), not
# time zone ids in a <select>, not what <noscript> would show.
READ_TEXT = """() => {
  const skip = 'script,style,code,pre,noscript,[translate=no],option[value*="/"],option[value="UTC"]';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement.closest(skip)) parts.push(node.textContent);
  }
  return parts.join(' ');
}"""


def visible_words(text: str) -> list[str]:
    # Not e-mail addresses, domain names, case numbers or IANA zone ids ("Asia/Seoul").
    text = re.sub(r"\S+@\S+|\b[\w-]+(\.[\w-]+)+\b|\b[A-Z][A-Za-z_]+/[A-Za-z_/]+", " ", text)
    return re.findall(r"[A-Za-z]{2,}", text)


AXE_RUN = "(options) => axe.run(document, options)"
SETTLE = "() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)))"


def check_widths(page, persona, language, name, url, problems, *, audit: bool):
    """Both widths on one load: the document no wider than the viewport; when `audit`,
    axe-core clean and a screenshot of each."""
    if audit:
        page.evaluate(AXE.axe_script)  # once per load, for both runs
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate(SETTLE)  # let the page's resize handlers run, as before a person looks
        scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            problems.append(f"{persona} {language} {width}px {url}: document {scroll} px wide")
        if not audit:
            continue
        for violation in page.evaluate(AXE_RUN, AXE_OPTIONS)["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"]][:3]
                problems.append(f"{persona} {language} {width}px {url}: axe {violation['id']} {targets}")
        slug = re.sub(r"[^a-z0-9]+", "-", f"{persona}-{name}").strip("-")
        page.screenshot(path=str(ARTIFACTS / f"{language}-{width}-{slug}.png"))
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def data_words() -> set[str]:
    """Words people typed or the sales console keeps (titles, messages, descriptions,
    names of customers, people, units, roles, tokens, English category names): data,
    not the portal's words."""
    from allauth.usersessions.models import UserSession

    from accounts.models import AdminRole, ApiToken, OrgUnit, Partner
    from cases.models import CannedReply, Case, Classification, Comment
    from customers.models import Customer

    values = [
        *Case.objects.values_list("title", flat=True),
        *Case.objects.values_list("description", flat=True),
        *(str(answers) for answers in Case.objects.values_list("answers", flat=True)),
        *Comment.objects.values_list("body", flat=True),
        *Customer.objects.values_list("name", flat=True),
        *Classification.objects.values_list("display_name", flat=True),
        *OrgUnit.objects.values_list("name", flat=True),
        *AdminRole.objects.filter(builtin="").values_list("name", flat=True),
        *AdminRole.objects.filter(builtin="").values_list("description", flat=True),
        *Partner.objects.values_list("name", flat=True),
        *(" ".join(row) for row in Customer.objects.values_list("address_line", "city", "contact_name")),
        *ApiToken.objects.values_list("name", flat=True),
        *(" ".join(row) for row in CannedReply.objects.values_list("title", "body")),
        *UserSession.objects.values_list("user_agent", flat=True),
        *(name or "" for name in User.objects.values_list("full_name", flat=True)),
    ]
    return {word.lower() for value in values for word in re.findall(r"[A-Za-z]{2,}", value)}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_page_fits_390_and_1366_and_passes_axe(browser, live_server, world, language):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems, english_words = [], set()
    shared_done = set()  # allauth's pages are the same for everyone: once per language
    # Every persona's every page is measured at both widths; axe-core and the screenshot
    # run on each route once per language (the first persona that may use it), which
    # keeps the crawl near two minutes on a small machine.
    audited = set()
    for persona in CRAWLED:
        email = PERSONAS[persona]
        user = User.objects.get(email=email)
        User.objects.filter(pk=user.pk).update(language=language)
        context = browser.new_context(base_url=live_server.url, viewport={"width": WIDTHS[0], "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in_page(page, email, language)
        known_data = data_words()  # now with this browser's session (its user agent is data)
        refusals = set()  # one 403 and one 404 page per persona is enough
        for name, url in page_urls(user):
            if name.startswith(("account_", "mfa_")):
                if name in shared_done:
                    continue
                shared_done.add(name)
            try:
                response = page.goto(url, wait_until="load")
            except PlaywrightError as error:
                problems.append(f"{persona} {url}: {error.message.splitlines()[0]}")
                continue
            status = response.status if response else 0
            if status >= 500:
                problems.append(f"{persona} {url}: HTTP {status}")
                continue
            if status in (403, 404):
                if status in refusals:
                    continue
                refusals.add(status)
            # The state tabs fetch their counts after the page: wait for them.
            page.wait_for_function("() => !document.querySelector('[aria-busy=true]')")
            audit = (name, status) not in audited
            audited.add((name, status))
            check_widths(page, persona, language, name, url, problems, audit=audit)
            if language == "ko":
                text = page.evaluate(READ_TEXT)
                problems += [f"{persona} ko {url}: raw code {raw}" for raw in set(RAW_ENUMS.findall(text))]
                # The API reference names the wire format's identifiers (parameters, error
                # statuses) as they are: no English-word check there.
                if name != "api_docs":
                    words = {w.lower() for w in visible_words(text)} - ALLOWED_ENGLISH - known_data
                    english_words |= {f"{url} {w}" for w in words}
        context.close()
    if english_words:
        problems.append("English words on Korean pages: " + ", ".join(sorted(english_words)))
    assert problems == [], "\n".join(problems)


def sign_in_page(page, email: str, language: str) -> None:
    if language == "en":
        sign_in(page, email)
        return
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill("demo-pass-2024")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/")
