"""Serving an evidence file: the stored bytes, with headers that keep a browser from running them."""

from django.http import FileResponse

from . import store
from .models import Evidence

# Shown in the browser when asked to view; everything else is always a download (a PDF too: the
# sandboxing CSP below would block the browser's PDF viewer, and a PDF may carry script).
_INLINE = ("image/jpeg", "image/png", "image/gif", "image/webp", "text/plain")


def file_response(item: Evidence, *, download: bool) -> FileResponse:
    inline = not download and item.content_type in _INLINE
    content_type = item.content_type
    if content_type == "text/plain":
        content_type = "text/plain; charset=utf-8" if _is_utf8(item) else "text/plain; charset=gb18030"
    response = FileResponse(
        store.open(item.sha256), as_attachment=not inline, filename=item.filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["ETag"] = f'"{item.sha256}"'
    return response


def _is_utf8(item: Evidence) -> bool:
    with store.open(item.sha256) as stored:
        head = stored.read(65536)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # cut in the middle of a character
    return True
