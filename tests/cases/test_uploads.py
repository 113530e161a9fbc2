"""Upload rules: any type support work needs is taken; executables and scripts are refused
by content and by name; unknown binaries are kept as application/octet-stream; the size
limit holds while the upload streams in; stored files are private (0600)."""

import gzip
import hashlib
import io
import os
import stat
import tarfile
import tracemalloc
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.handlers.wsgi import WSGIRequest
from django.test import override_settings

from cases import services
from cases.uploads import OCTET_STREAM, clean_filename, upload_check
from portal.errors import InvalidInput
from tests.cases.conftest import PNG


def check(content: bytes, name: str):
    return upload_check(ContentFile(content, name=name), filename=name)


def _zip(names: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in names.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = b"2026-11-24 error\n"
        info = tarfile.TarInfo("logs/mail.log")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 64
WEBM = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm"
    + b"\x00" * 32
)
PCAP = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 16 + b"\x01\x00\x00\x00" + b"\x00" * 64
PCAPNG = b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a" + b"\x00" * 64
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
SEVEN_Z = b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 64
HEAP_DUMP = b"JAVA PROFILE 1.0.2\x00" + bytes(range(256)) * 4
EML = b"From: a@acme.example\r\nTo: b@acme.example\r\nSubject: test\r\n\r\nbody\r\n"


@pytest.mark.parametrize(
    "content, name, mime",
    [
        (PNG, "screen.png", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, "photo.jpg", "image/jpeg"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "report.pdf", "application/pdf"),
        (MP4, "recording.mp4", "video/mp4"),
        (MOV, "recording.mov", "video/quicktime"),
        (WEBM, "recording.webm", "video/webm"),
        (PCAP, "capture.pcap", "application/vnd.tcpdump.pcap"),
        (PCAPNG, "capture.pcapng", "application/vnd.tcpdump.pcap"),
        (EML, "message.eml", "message/rfc822"),
        (OLE, "message.msg", "application/vnd.ms-outlook"),
        (_zip({"a.txt": b"hello"}), "logs.zip", "application/zip"),
        (gzip.compress(b"log line\n" * 100), "mail.log.gz", "application/gzip"),
        (_tar(), "logs.tar", "application/x-tar"),
        (SEVEN_Z, "logs.7z", "application/x-7z-compressed"),
        (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), "notes.docx", None),
        (b'{"log": {"version": "1.2", "entries": []}}', "session.har", "application/json"),
        (b"2026-11-24 error: timeout\n", "mail.log", "text/plain"),
        (b"2026-11-24 error: timeout\n", "gmail-sync.log.1", "text/plain"),
        (b"a,b\n1,2\n", "export.csv", "text/csv"),
        ("메일 지연 로그\n".encode(), "로그.txt", "text/plain"),
        (b"<html><script>alert(1)</script></html>", "page.html", "text/plain"),
        (b"key=value\n", "settings.conf", "text/plain"),
        (HEAP_DUMP, "java_pid1234.hprof", OCTET_STREAM),
        (bytes(range(256)) * 4, "blob.bin", OCTET_STREAM),
        (bytes(range(256)) * 4, "core", OCTET_STREAM),
    ],
)
def test_accepted_types(content, name, mime):
    checked = check(content, name)
    if mime is not None:
        assert checked.mime_type == mime


ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 64
JAR = _zip({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n", "a/B.class": b"\xca\xfe\xba\xbe"})
APK = _zip({"AndroidManifest.xml": b"\x03\x00", "classes.dex": b"dex\n035\x00"})


@pytest.mark.parametrize(
    "content, name",
    [
        # by content, whatever the name
        (PE, "setup.exe"),
        (PE, "invoice.pdf"),
        (PE, "report.txt"),
        (ELF, "tool"),
        (ELF, "data.bin"),
        (MACHO, "helper"),
        (JAR, "library.zip"),
        (APK, "app.zip"),
        (b"#!/bin/sh\nrm -rf /\n", "cleanup.txt"),
        (b"#!/usr/bin/env python3\nprint(1)\n", "notes"),
        # by name, whatever the content
        (b"plain text", "script.exe"),
        (b"@echo off\r\ndel *.*\r\n", "run.bat"),
        (b"@echo off\r\n", "run.cmd"),
        (b"Get-ChildItem\n", "clean.ps1"),
        (b"MsgBox 1\n", "hello.vbs"),
        (b"alert(1)\n", "app.js"),
        (OLE, "installer.msi"),
        (_zip({"a.txt": b"x"}), "library.jar"),
        (_zip({"a.txt": b"x"}), "app.apk"),
        (b"text", "screensaver.scr"),
        (b"text", "invoice.pdf.exe"),
        (b"echo hi\n", "install.sh"),
    ],
)
def test_executables_and_scripts_are_refused(content, name):
    with pytest.raises(InvalidInput) as refused:
        check(content, name)
    assert "program or a script" in str(refused.value.message)


@pytest.mark.parametrize(
    "content, name, message",
    [
        (PNG, "invoice.pdf", "does not match its name"),
        (b"%PDF-1.7\n", "photo.png", "does not match its name"),
        (b"", "empty.txt", "is empty"),
    ],
)
def test_other_refusals_say_why(content, name, message):
    with pytest.raises(InvalidInput) as refused:
        check(content, name)
    assert message in str(refused.value.message)


@override_settings(ATTACHMENT_MAX_BYTES=1000)
def test_size_limit_comes_from_the_setting():
    with pytest.raises(InvalidInput) as refused:
        check(b"x" * 1001, "big.txt")
    assert "larger than" in str(refused.value.message)
    assert check(b"x" * 1000, "ok.txt").size == 1000


def test_the_default_limit_is_100_mb():
    from django.conf import settings

    assert settings.ATTACHMENT_MAX_BYTES == 100 * 1024 * 1024


def test_filenames_are_metadata_never_paths():
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename('C:\\Users\\me\\"evil".txt') == "evil.txt"
    assert clean_filename("") == "attachment"


# --------------------------------------------------------------------------- streaming

BOUNDARY = "----portal-test-boundary"


class StreamedBody:
    """A multipart body with one big file, produced as it is read (never whole in memory),
    like a socket delivering a browser's upload."""

    def __init__(self, size: int, filename: str = "capture.pcap"):
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="body"\r\n\r\nsee the capture\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.parts = [head, PCAP[:24]]
        self.remaining = size - 24
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.length = len(head) + size + len(self.tail)
        self.block = b"\x00\x11\x22\x33" * 16384  # 64 KiB

    def read(self, n=-1):
        if self.parts:
            return self.parts.pop(0)
        if self.remaining > 0:
            take = min(self.remaining, len(self.block), n if n and n > 0 else len(self.block))
            self.remaining -= take
            return self.block[:take]
        tail, self.tail = self.tail, b""
        return tail

    def readline(self, n=-1):  # Django's LimitedStream wants it; multipart parsing reads blocks
        return self.read(n)


def streamed_request(size: int, filename: str = "capture.pcap") -> WSGIRequest:
    body = StreamedBody(size, filename)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/cases/1/comments/",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(body.length),
    }
    return WSGIRequest(environ)


class TempDirWatcher:
    """The largest total size the temporary upload directory reaches."""

    def __init__(self, path):
        self.path = path
        self.largest = 0

    def measure(self):
        total = sum(entry.stat().st_size for entry in os.scandir(self.path) if entry.is_file())
        self.largest = max(self.largest, total)


@override_settings(ATTACHMENT_MAX_BYTES=2 * 1024 * 1024)
def test_a_page_upload_is_stopped_at_the_limit_while_it_streams(tmp_path, monkeypatch):
    """A 40 MB upload against a 2 MB limit: at most the limit ever reaches the temporary
    directory, the file is not in request.FILES, the other fields are, and the refusal
    names the file."""
    from cases.uploads import upload_refusals

    watcher = TempDirWatcher(tmp_path)
    request = streamed_request(40 * 1024 * 1024)
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        original = StreamedBody.read

        def read_and_watch(self, n=-1):
            watcher.measure()
            return original(self, n)

        monkeypatch.setattr(StreamedBody, "read", read_and_watch)
        files = request.FILES
        refusals = upload_refusals(request)
    assert "files" not in files
    assert request.POST["body"] == "see the capture"
    assert refusals and "capture.pcap" in refusals[0] and "larger than" in refusals[0]
    assert watcher.largest <= 2 * 1024 * 1024 + 256 * 1024
    assert list(tmp_path.iterdir()) == []  # the partial file is gone


def test_a_100_mb_upload_streams_to_disk_with_flat_memory(w, tmp_path):
    """The full path of a page upload at the default limit: parsed from a streamed body,
    checked and stored as a pending upload — Python memory stays far below the file size."""
    size = 100 * 1024 * 1024 - 4096
    request = streamed_request(size)
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        tracemalloc.start()
        try:
            upload = request.FILES["files"]
            pending = services.pending_upload_create(user=w.agent, file=upload, filename=upload.name)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert pending.size == size and pending.mime_type == "application/vnd.tcpdump.pcap"
    assert peak < 8 * 1024 * 1024, f"peak Python memory {peak / 1e6:.1f} MB"
    path = pending.file.path
    assert os.path.getsize(path) == size
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert hashlib.sha256(open(path, "rb").read(0)).hexdigest()  # readable by the portal itself
    pending.file.delete(save=False)


def test_stored_attachments_are_private_to_the_portal_user(w, file_case, png):
    case = file_case(w.agent, w.acme)
    attachment = services.attachment_add(user=w.agent, case=case, file=png(), filename="screen.png")
    assert stat.S_IMODE(os.stat(attachment.file.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(attachment.file.path)).st_mode) == 0o700
