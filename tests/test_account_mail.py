"""Issue 12: allauth's mails (password reset and the like) are branded, in the account's
language, and name no host in the subject."""

import re

from django.urls import reverse

ALLOWED = {"Google", "Workspace"}


def _latin_words(text: str) -> set[str]:
    text = re.sub(r"\S+@\S+|https?://\S+", " ", text)
    return set(re.findall(r"[A-Za-z][A-Za-z0-9_]+", text))


def test_the_password_reset_mail_is_branded_and_in_the_accounts_language(client, w, mailoutbox):
    user = w.acme_user  # each `w.` attribute is a fresh object
    user.language = "ko"
    user.save(update_fields=["language"])
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.subject == "[리셀러 지원 포털] 비밀번호 재설정"
    assert "비밀번호" in mail.body and "리셀러 지원 포털" in mail.body
    assert "/accounts/password/reset/key/" in mail.body
    assert _latin_words(mail.subject + "\n" + mail.body) <= ALLOWED, _latin_words(mail.body)

    mailoutbox.clear()
    agent = w.agent
    agent.language = "en"
    agent.save(update_fields=["language"])
    client.post(reverse("account_reset_password"), {"email": agent.email}, HTTP_ACCEPT_LANGUAGE="ko")
    (mail,) = mailoutbox
    assert mail.subject == "[Reseller Support Portal] Reset your password"
    assert "example.com" not in mail.subject and "testserver" not in mail.subject


def test_a_reset_for_an_unknown_address_answers_in_the_askers_language(db, client, mailoutbox):
    client.cookies["django_language"] = "ko"
    client.post(
        reverse("account_reset_password"), {"email": "nobody@nowhere.example"}, HTTP_ACCEPT_LANGUAGE="ko"
    )
    (mail,) = mailoutbox
    assert mail.subject == "[리셀러 지원 포털] 비밀번호 재설정"
    assert _latin_words(mail.subject + "\n" + mail.body) <= ALLOWED, _latin_words(mail.body)
