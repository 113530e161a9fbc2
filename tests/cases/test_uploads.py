"""Upload rules: type by content, not by name; size limit; sha256 recorded."""

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from cases.uploads import clean_filename, upload_check
from portal.errors import InvalidInput
from tests.cases.conftest import PNG


def check(content: bytes, name: str):
    return upload_check(ContentFile(content, name=name), filename=name)


def test_png_is_recognised_by_its_content_and_measured():
    checked = check(PNG, "screen.png")
    assert checked.mime_type == "image/png" and checked.size == len(PNG)
    assert checked.sha256 == hashlib.sha256(PNG).hexdigest()


@pytest.mark.parametrize(
    "content, name, mime",
    [
        (b"2026-11-24 error: timeout\n", "mail.log", "text/plain"),
        (b"a,b\n1,2\n", "export.csv", "text/csv"),
        ("메일 지연 로그\n".encode(), "로그.txt", "text/plain"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "report.pdf", "application/pdf"),
    ],
)
def test_accepted_types(content, name, mime):
    assert check(content, name).mime_type == mime


@pytest.mark.parametrize(
    "content, name, message",
    [
        (PNG, "invoice.pdf", "does not match its name"),
        (b"%PDF-1.7\n", "photo.png", "does not match its name"),
        (
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64,
            "setup.exe",
            "cannot be attached",
        ),
        (bytes(range(256)) * 4, "blob.bin", "could not be recognised"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "tool", "cannot be attached"),
        (b"", "empty.txt", "is empty"),
        (b"plain text", "script.exe", "does not match its name"),
    ],
)
def test_refused_types_say_why(content, name, message):
    with pytest.raises(InvalidInput) as refused:
        check(content, name)
    assert message in str(refused.value.message)


@override_settings(ATTACHMENT_MAX_BYTES=1000)
def test_size_limit_comes_from_the_setting():
    with pytest.raises(InvalidInput) as refused:
        check(b"x" * 1001, "big.txt")
    assert "larger than" in str(refused.value.message)
    assert check(b"x" * 1000, "ok.txt").size == 1000


def test_filenames_are_metadata_never_paths():
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename('C:\\Users\\me\\"evil".txt') == "evil.txt"
    assert clean_filename("") == "attachment"
