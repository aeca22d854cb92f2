"""
Cover art as podcast directories accept it: a square JPEG or PNG, 1400 to
3000 pixels a side, in RGB (Apple Podcasts' rule; Spotify's and the Podcast
Index's are looser). Checked from the file's header alone, so the site needs
no imaging library: the size and colour model are in the first bytes of a
PNG (its IHDR chunk) and in a JPEG's start-of-frame marker. We never decode
or re-encode the picture; it is served as uploaded.
"""

import struct

from django.core.exceptions import ValidationError

MIN_SIDE, MAX_SIDE = 1400, 3000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_RGB_TYPES = {2: "RGB", 3: "RGB palette", 6: "RGB with alpha"}
# JPEG start-of-frame markers (baseline, progressive, …), which carry the size.
JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def png_size(data):
    """(width, height, RGB?) from a PNG's header; None if it is not a PNG."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 26:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height, data[25] in PNG_RGB_TYPES


def jpeg_size(data):
    """(width, height, RGB?) from a JPEG's start-of-frame; None if it is not a JPEG or has none."""
    if not data.startswith(b"\xff\xd8"):
        return None
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        if marker in JPEG_FRAMES and position + 10 <= len(data):
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return width, height, data[position + 9] == 3  # three components: YCbCr/RGB, not CMYK or grey
        position += 2 + length
    return None


def cover_problems(data):
    """What stops the picture being listed, as sentences for an editor; [] when it is fine."""
    found = png_size(data) or jpeg_size(data)
    if found is None:
        return ["The cover must be a JPEG or PNG file."]
    width, height, rgb = found
    problems = []
    if width != height:
        problems.append(f"The cover must be square; this one is {width} × {height} pixels.")
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        problems.append(f"The cover must be {MIN_SIDE} to {MAX_SIDE} pixels a side; this one is {width} × {height}.")
    if not rgb:
        problems.append("The cover must be in RGB colour (not CMYK or greyscale).")
    return problems


MAX_BYTES = 10 * 1024 * 1024  # more than any 3000 px cover needs; keeps the feed's readers quick
# Enough of the file for a PNG header or the JPEG markers before the frame (EXIF can be long).
HEADER_BYTES = 256 * 1024


def validate_cover_art(upload):
    """The model field's validator: reads the start of the uploaded file."""
    if getattr(upload, "size", 0) > MAX_BYTES:
        raise ValidationError(f"The cover is over {MAX_BYTES // 2**20} MB; directories fetch it often, so keep it smaller.")
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    data = upload.read(HEADER_BYTES)
    upload.seek(position)
    if problems := cover_problems(data):
        raise ValidationError(" ".join(problems))
