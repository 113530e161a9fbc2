"""Upload rules, shared by the pages, the API and reply-by-email.

Support work needs nearly every kind of file: screenshots, screen recordings, PDFs, office
documents, logs of any extension, HAR files, packet captures, mail messages, archives, heap
dumps and other unknown binaries. Only executables and scripts are refused, recognised by
their content (PE, ELF, Mach-O, Java archives, Android packages, a `#!` line) or by their
name. The type we record (and serve) comes from the content: a known format keeps its
MIME type, text is text/plain (never rendered), everything else is
application/octet-stream. Downloads are always `Content-Disposition: attachment`.

Files are measured while they stream: `SizeLimitUploadHandler` stops a page upload at the
limit before it is written to disk in full."""

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.files.base import File
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from portal.errors import InvalidInput

OCTET_STREAM = "application/octet-stream"

# Formats recognised by their signature that we record with their own MIME type; any other
# recognised format that is not executable is stored as application/octet-stream.
KNOWN_TYPES: dict[str, set[str]] = {
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg", "jfif"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "image/bmp": {"bmp"},
    "image/tiff": {"tif", "tiff"},
    "image/heic": {"heic", "heif"},
    "video/mp4": {"mp4", "m4v"},
    "video/quicktime": {"mov", "qt"},
    "video/webm": {"webm"},
    "video/x-matroska": {"mkv"},
    "application/pdf": {"pdf"},
    "application/zip": {"zip"},
    "application/gzip": {"gz", "tgz"},
    "application/x-tar": {"tar"},
    "application/x-7z-compressed": {"7z"},
    "application/msword": {"doc"},
    "application/vnd.ms-excel": {"xls"},
    "application/vnd.ms-powerpoint": {"ppt"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"xlsx"},
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": {"pptx"},
    "application/vnd.oasis.opendocument.text": {"odt"},
    "application/vnd.oasis.opendocument.spreadsheet": {"ods"},
    "application/vnd.oasis.opendocument.presentation": {"odp"},
}
# Containers that commonly carry another extension (a HAR is JSON, but may come zipped;
# office files are zip archives; an .msg is an OLE compound file).
CONTAINER_EXTENSIONS: dict[str, set[str]] = {
    "application/zip": {"har", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub", "zip"},
    "application/gzip": {"gz", "tgz", "har", "log", "pcap", "pcapng", "tar"},
}
# Signatures filetype does not know.
PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .msg, .doc, .xls, .ppt — and .msi
# Executables by content.
EXECUTABLE_MAGICS = (
    b"MZ",  # PE: .exe, .dll, .scr, .sys, .com stubs
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O 32/64, both byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary (and Java class files)
    b"dex\n",  # Android Dalvik
)
# Executables and scripts by name (lower case, without the dot).
REFUSED_EXTENSIONS = frozenset(
    {
        # Windows executables and installers
        "exe", "dll", "com", "scr", "pif", "cpl", "sys", "drv", "ocx", "msi", "msp", "mst", "msix",
        "msixbundle", "appx", "appxbundle", "application", "gadget", "hta", "lnk", "reg", "inf",
        # Windows scripts
        "bat", "cmd", "ps1", "psm1", "psd1", "ps1xml", "psc1", "vbs", "vbe", "js", "jse", "mjs",
        "cjs", "wsf", "wsh", "wsc", "sct", "msc",
        # Java, Android, macOS, Unix
        "jar", "class", "apk", "aab", "dex", "app", "command", "elf", "run", "out", "so", "dylib",
        "ko", "sh", "bash", "zsh", "csh", "ksh", "fish", "py", "pyc", "pyw", "pl", "rb", "php",
        "phtml", "lua", "tcl", "applescript", "scpt", "workflow", "action", "desktop",
    }
)  # fmt: skip
# Text: recognised by decoding as UTF-8; the extension only picks the recorded subtype.
TEXT_SUBTYPES: dict[str, str] = {
    "csv": "text/csv",
    "json": "application/json",
    "har": "application/json",
    "eml": "message/rfc822",
}
SNIFF_BYTES = 8192
MAX_FILENAME = 255
STREAM_REFUSALS = "_portal_uploads_refused"  # request attribute set by SizeLimitUploadHandler


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    mime_type: str
    size: int
    sha256: str


def clean_filename(name: str) -> str:
    """The last path component, without control characters; never empty."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?').strip(" .")
    return (base or "attachment")[-MAX_FILENAME:]


def _extension(filename: str) -> str:
    return PurePath(filename).suffix.lower().lstrip(".")


def _extensions(filename: str) -> set[str]:
    """Every dotted part after the first: `report.pdf.exe` hides an executable."""
    parts = filename.lower().split(".")[1:]
    return {part.strip() for part in parts if part.strip()}


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed block is still text.
        return exc.start >= len(head) - 3
    return True


def _zip_is_executable(file: File) -> bool:
    """A .jar or .apk is a zip archive with a Java manifest or Android classes."""
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return False
    finally:
        file.seek(0)
    return any(
        name in {"META-INF/MANIFEST.MF", "AndroidManifest.xml", "classes.dex"} or name.endswith(".class")
        for name in names[:10_000]
    )


def too_large_message(filename: str) -> str:
    return _("“%(name)s” is larger than %(limit)s.") % {
        "name": clean_filename(filename),
        "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES),
    }


def _refuse_executable(filename: str) -> InvalidInput:
    return InvalidInput(
        _(
            "“%(name)s” is a program or a script, and those cannot be attached. "
            "If support needs it, put it in a zip archive with a password and say so in your message."
        )
        % {"name": filename}
    )


def upload_check(file: File, *, filename: str) -> CheckedUpload:
    """Check one uploaded file and measure it. Raises InvalidInput with a message for
    the user when it is empty, too large, an executable or a script (by content or by
    name), or when a recognised format does not match a name that claims another one."""
    filename = clean_filename(filename)
    limit = settings.ATTACHMENT_MAX_BYTES
    size = file.size if file.size is not None else None
    if size is not None and size > limit:
        raise InvalidInput(too_large_message(filename))
    if _extensions(filename) & REFUSED_EXTENSIONS:
        raise _refuse_executable(filename)
    digest = hashlib.sha256()
    head = b""
    measured = 0
    file.seek(0)
    for chunk in file.chunks():
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        digest.update(chunk)
        measured += len(chunk)
        if measured > limit:
            raise InvalidInput(too_large_message(filename))
    file.seek(0)
    if measured == 0:
        raise InvalidInput(_("“%(name)s” is empty.") % {"name": filename})
    mime = _content_type(file, head=head, filename=filename)
    return CheckedUpload(filename=filename, mime_type=mime, size=measured, sha256=digest.hexdigest())


def _content_type(file: File, *, head: bytes, filename: str) -> str:
    extension = _extension(filename)
    if head.startswith(EXECUTABLE_MAGICS) or head.startswith(b"#!"):
        raise _refuse_executable(filename)
    if head.startswith(PCAP_MAGICS) or head.startswith(PCAPNG_MAGIC):
        return "application/vnd.tcpdump.pcap"
    if head.startswith(OLE_MAGIC):
        return "application/vnd.ms-outlook" if extension == "msg" else OCTET_STREAM
    kind = filetype.guess(head)
    if kind is not None:
        if kind.mime in {"application/x-msdownload", "application/x-executable", "application/wasm"}:
            raise _refuse_executable(filename)
        if kind.mime == "application/zip" and _zip_is_executable(file):
            raise _refuse_executable(filename)
        if kind.mime not in KNOWN_TYPES:
            return OCTET_STREAM
        allowed = KNOWN_TYPES[kind.mime] | CONTAINER_EXTENSIONS.get(kind.mime, set())
        claimed_other = any(extension in exts for mime, exts in KNOWN_TYPES.items() if mime != kind.mime)
        if extension not in allowed and claimed_other:
            raise InvalidInput(
                _("The content of “%(name)s” does not match its name (it is %(type)s).")
                % {"name": filename, "type": kind.mime}
            )
        return kind.mime
    if _looks_like_text(head):
        return TEXT_SUBTYPES.get(extension, "text/plain")
    return OCTET_STREAM


class SizeLimitUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: counts each file's bytes as they stream in and
    skips the file once it passes ATTACHMENT_MAX_BYTES, so that the handlers after it
    (memory, then a temporary file) never hold more than the limit. The refused names are
    left on the request; `upload_refusals(request)` turns them into messages."""

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.ATTACHMENT_MAX_BYTES:
            refused = getattr(self.request, STREAM_REFUSALS, None)
            if refused is None:
                refused = []
                setattr(self.request, STREAM_REFUSALS, refused)
            refused.append(self.file_name or "")
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None


def upload_refusals(request) -> list[str]:
    """Messages for the files the upload handler stopped while they streamed in. Reading
    request.FILES first makes sure the body has been parsed."""
    request.FILES  # noqa: B018 — parse the body so that the handler has run
    return [too_large_message(name) for name in getattr(request, STREAM_REFUSALS, [])]
