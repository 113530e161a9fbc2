"""Media upload bodies, in the three forms clients send them:

- raw bytes (`uploadType=media`, `curl --data-binary @file`), named by the
  `attachment.filename` query parameter;
- `multipart/related` (`uploadType=multipart`, Google's discovery client when a body is
  given): a JSON part `{"attachment": {"filename": …}}`, then the bytes;
- `multipart/form-data` (`curl -F file=@…`).

The body is read in chunks up to the attachment size limit, never whole into memory for
raw uploads. What is read is then checked by `cases.uploads.upload_check` inside
`attachment_add`, exactly as an upload from the case page."""

import base64
import binascii
import json
import tempfile

from django.conf import settings
from django.core.files.base import File
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from cases.api.errors import invalid

CHUNK = 64 * 1024
# Room for the multipart framing and the JSON part around the file itself.
ENVELOPE_SLACK = 64 * 1024


def _limit() -> int:
    return settings.ATTACHMENT_MAX_BYTES + ENVELOPE_SLACK


def _too_large():
    return invalid(
        _("The file is larger than the limit of %(mb)d MB.")
        % {"mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)}
    )


def _read_stream(request, into) -> int:
    size = 0
    while True:
        chunk = request.read(CHUNK)
        if not chunk:
            return size
        size += len(chunk)
        if size > _limit():
            raise _too_large()
        into.write(chunk)


def _split_related(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart/related body. Lines may end in CRLF or, as Python's email
    generator writes them, in LF alone."""
    delimiter = b"--" + boundary.encode("latin-1")
    start = body.find(delimiter)
    if start < 0:
        raise invalid(_("The multipart body has no part."))
    position = start + len(delimiter)
    parts = []
    while body[position : position + 2] != b"--":
        line_end = body.find(b"\n", position)
        if line_end < 0:
            raise invalid(_("The multipart body ends too early."))
        position = line_end + 1
        end = body.find(b"\n" + delimiter, position)
        if end < 0:
            raise invalid(_("The multipart body ends too early."))
        part = body[position:end]
        if part.endswith(b"\r"):
            part = part[:-1]
        crlf, lf = part.find(b"\r\n\r\n"), part.find(b"\n\n")
        if crlf >= 0 and (lf < 0 or crlf < lf):
            head, content = part[:crlf], part[crlf + 4 :]
        elif lf >= 0:
            head, content = part[:lf], part[lf + 2 :]
        else:
            head, content = part, b""
        headers = {}
        for line in head.decode("latin-1").splitlines():
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if headers.get("content-transfer-encoding", "").lower() == "base64":
            try:
                content = base64.b64decode(content)
            except (binascii.Error, ValueError):
                raise invalid(_("A multipart part is not valid base64.")) from None
        parts.append((headers, content))
        position = end + 1 + len(delimiter)
        if len(parts) > 10:
            raise invalid(_("The multipart body has too many parts."))
    return parts


def _metadata_filename(metadata: bytes) -> str:
    if not metadata.strip():
        return ""
    try:
        data = json.loads(metadata)
    except (ValueError, UnicodeDecodeError):
        raise invalid(_("Invalid JSON payload received in the metadata part.")) from None
    attachment = data.get("attachment") if isinstance(data, dict) else None
    if attachment is None:
        return ""
    if not isinstance(attachment, dict) or not isinstance(attachment.get("filename", ""), str):
        raise invalid(_('The metadata part must be {"attachment": {"filename": "…"}}.'))
    return attachment.get("filename", "")


def upload_from_request(request) -> tuple[File, str]:
    """The uploaded file and its name. The caller closes the file."""
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        raise invalid(_("The Content-Length header is not a number.")) from None
    if declared > _limit():
        raise _too_large()
    name = request.GET.get("attachment.filename", "")
    content_type = request.content_type or ""

    if content_type == "multipart/form-data":
        try:
            files = request.FILES
        except MultiPartParserError:
            raise invalid(_("The multipart form could not be read.")) from None
        uploaded = next(iter(files.values()), None)
        if uploaded is None:
            raise invalid(_("The form carries no file. Send it as a file field."))
        return uploaded, name or uploaded.name or ""

    if content_type == "multipart/related":
        boundary = request.content_params.get("boundary", "")
        if not boundary or len(boundary) > 200:
            raise invalid(_("The multipart body names no boundary."))
        with tempfile.SpooledTemporaryFile(max_size=2 * 1024 * 1024) as buffer:
            _read_stream(request, buffer)
            buffer.seek(0)
            body = buffer.read()
        parts = _split_related(body, boundary)
        if len(parts) != 2:
            raise invalid(_("A multipart upload has two parts: the JSON metadata, then the file."))
        name = name or _metadata_filename(parts[0][1])
        media = tempfile.TemporaryFile()
        media.write(parts[1][1])
        media.seek(0)
        return File(media, name=name or "attachment"), name

    media = tempfile.TemporaryFile()
    try:
        _read_stream(request, media)
    except BaseException:
        media.close()
        raise
    media.seek(0)
    return File(media, name=name or "attachment"), name
