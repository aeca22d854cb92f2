"""
Draw the demo show's cover art once: static/podcast/cover.png, 3000 × 3000
pixels, RGB, in the site's colours (the favicon's lines of text, large).

The site keeps the picture, not this script's dependency: run it by hand
with Pillow and Debian's DejaVu fonts installed, e.g.

    python3 -m venv /tmp/cover && /tmp/cover/bin/pip install Pillow
    /tmp/cover/bin/python episodes/demo/make_cover.py static/podcast/cover.png

Nothing imports this module.
"""

import sys

SIZE = 3000
PAPER, INK, ACCENT, RULE = (253, 252, 248), (31, 29, 26), (138, 47, 29), (221, 214, 202)
SERIF_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TITLE = ["History of", "the Second", "World War"]


def draw(path):
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (SIZE, SIZE), PAPER)
    pen = ImageDraw.Draw(image)
    margin = 260
    pen.rectangle([0, 0, SIZE, 700], fill=ACCENT)
    # The favicon's three lines of text, as a band of ruled lines across the top.
    for row, length in enumerate([2480, 2480, 1600]):
        y = 170 + row * 170
        pen.rounded_rectangle([margin, y, margin + length, y + 72], radius=36, fill=PAPER)
    title = ImageFont.truetype(SERIF_BOLD, 330)
    y = 880
    for line in TITLE:
        pen.text((margin, y), line, font=title, fill=INK)
        y += 400
    pen.rectangle([margin, y + 80, SIZE - margin, y + 96], fill=RULE)
    label = ImageFont.truetype(SANS, 150)
    pen.text((margin, y + 200), "COMPANION", font=label, fill=ACCENT)
    small = ImageFont.truetype(SANS, 105)
    pen.text((margin, y + 420), "Transcripts, chapters and notes", font=small, fill=INK)
    pen.text((margin, y + 560), "to read while you listen", font=small, fill=INK)
    image.save(path, optimize=True)


if __name__ == "__main__":
    draw(sys.argv[1] if len(sys.argv) > 1 else "static/podcast/cover.png")
