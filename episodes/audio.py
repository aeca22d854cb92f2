"""
Serve audio with HTTP Range support: seeking in an <audio> element asks for
byte ranges, and a server that ignores them makes every seek start over.
"""

import mimetypes
import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

from companion.params import parse_int

RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
CHUNK = 64 * 1024


def read_range(handle, start, length):
    handle.seek(start)
    try:
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def ranged_file_response(request, field_file):
    """200 with the whole file, 206 with one byte range, or 416 for a range past the end."""
    size = field_file.size
    content_type = mimetypes.guess_type(field_file.name)[0] or "application/octet-stream"
    match = RANGE.match(request.headers.get("Range", "").strip())
    if not match or not any(match.groups()):
        # No Range, or one we do not serve (several ranges): the whole file.
        response = FileResponse(field_file.open("rb"), content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        return response
    # However many digits are sent, a number past any file's size means the same.
    first, last = (parse_int(part, clamp=True) if part else None for part in match.groups())
    if first is not None:
        start = first
        end = min(last, size - 1) if last is not None else size - 1
    else:  # "bytes=-500": the last 500 bytes
        start, end = max(size - last, 0), size - 1
    if start >= size or end < start:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    length = end - start + 1
    response = StreamingHttpResponse(
        read_range(field_file.open("rb"), start, length), status=206, content_type=content_type
    )
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    return response
