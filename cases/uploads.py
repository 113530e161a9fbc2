"""Upload rules, shared by the pages, the API and reply-by-email: a size limit, and a type
decided by the file's content, never by its name."""

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.files.base import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from portal.errors import InvalidInput

# Binary types recognised by their signature, and the file extensions that may carry them.
BINARY_TYPES: dict[str, set[str]] = {
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "application/pdf": {"pdf"},
    "application/zip": {"zip", "har"},
    "application/gzip": {"gz", "tgz"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"xlsx"},
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": {"pptx"},
}
# Text files are recognised by decoding as UTF-8; the extension picks the subtype.
TEXT_TYPES: dict[str, str] = {
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "json": "application/json",
    "har": "application/json",
    "eml": "message/rfc822",
    "xml": "text/plain",  # served as plain text: never rendered
    "html": "text/plain",
    "htm": "text/plain",
    "": "text/plain",
}
SNIFF_BYTES = 8192
MAX_FILENAME = 255


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
    suffix = PurePath(filename).suffix.lower().lstrip(".")
    return suffix


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed block is still text.
        return exc.start >= len(head) - 3
    return True


def upload_check(file: File, *, filename: str) -> CheckedUpload:
    """Check one uploaded file and measure it. Raises InvalidInput with a message for
    the user when it is empty, too large, of a type we do not take, or when its content
    does not match its name."""
    filename = clean_filename(filename)
    limit = settings.ATTACHMENT_MAX_BYTES
    size = file.size if file.size is not None else None
    if size is not None and size > limit:
        raise InvalidInput(
            _("“%(name)s” is larger than %(limit)s.") % {"name": filename, "limit": filesizeformat(limit)}
        )
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
            raise InvalidInput(
                _("“%(name)s” is larger than %(limit)s.") % {"name": filename, "limit": filesizeformat(limit)}
            )
    file.seek(0)
    if measured == 0:
        raise InvalidInput(_("“%(name)s” is empty.") % {"name": filename})
    extension = _extension(filename)
    kind = filetype.guess(head)
    if kind is not None:
        if kind.mime not in BINARY_TYPES:
            raise InvalidInput(
                _(
                    "Files of type %(type)s cannot be attached. Attach images, PDFs, text, logs, office documents or zip archives."
                )
                % {"type": kind.mime}
            )
        if extension not in BINARY_TYPES[kind.mime]:
            raise InvalidInput(
                _("The content of “%(name)s” does not match its name (it is %(type)s).")
                % {"name": filename, "type": kind.mime}
            )
        mime = kind.mime
    elif _looks_like_text(head):
        if extension not in TEXT_TYPES:
            raise InvalidInput(
                _("The content of “%(name)s” does not match its name (it is plain text).")
                % {"name": filename}
            )
        mime = TEXT_TYPES[extension]
    else:
        raise InvalidInput(
            _(
                "The type of “%(name)s” could not be recognised. Attach images, PDFs, text, logs, office documents or zip archives."
            )
            % {"name": filename}
        )
    return CheckedUpload(filename=filename, mime_type=mime, size=measured, sha256=digest.hexdigest())
