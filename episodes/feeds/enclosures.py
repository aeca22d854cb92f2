"""
Which of an item's media files is the episode: audio, else video, never an
image. Candidates come from RSS <enclosure>, Media RSS <media:content>
(alone or in a <media:group>) and Atom <link rel="enclosure">; a feed may
enclose its cover art before its MP3, and the art must not become the audio.
A file whose type is missing or generic is judged by its medium attribute or
its name, and is taken only when nothing is surely audio or video.
"""

import mimetypes
from dataclasses import dataclass
from urllib.parse import urlsplit

MEDIA = "http://search.yahoo.com/mrss/"
ATOM = "http://www.w3.org/2005/Atom"

GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/download"}
AUDIO_TYPES = {"application/ogg", "application/x-ogg"}
# Lower is better; a kind missing here is never the episode.
PREFERENCE = {"audio": 0, "video": 1, "unknown": 2}


@dataclass
class Candidate:
    url: str
    type: str = ""
    length: str = ""
    medium: str = ""
    duration: str = ""
    source: str = "enclosure"  # which element it came from, for messages

    def kind(self):
        """audio, video, image, unknown (nothing says) or other (a web page, a PDF …)."""
        declared = self.type.split(";")[0].strip().lower()
        if declared in GENERIC_TYPES:
            declared = _guessed_type(self.url)
            if not declared:
                return self.medium.lower() if self.medium.lower() in ("audio", "video", "image") else "unknown"
        if declared.startswith("audio/") or declared in AUDIO_TYPES:
            return "audio"
        for kind in ("video", "image"):
            if declared.startswith(f"{kind}/"):
                return kind
        return "other"

    def mime_type(self):
        """The declared type, else one guessed from the file name."""
        declared = self.type.split(";")[0].strip()
        return declared if declared.lower() not in GENERIC_TYPES else _guessed_type(self.url)


def _guessed_type(url):
    return mimetypes.guess_type(urlsplit(url).path)[0] or ""


def candidates(element):
    """Every media file an RSS item or Atom entry encloses, in document order within each kind of tag."""
    found = [Candidate(url=e.get("url", ""), type=e.get("type", ""), length=e.get("length", ""))
             for e in element.findall("enclosure")]
    found += [
        Candidate(url=link.get("href", ""), type=link.get("type", ""), length=link.get("length", ""),
                  source="Atom enclosure link")
        for link in element.findall(f"{{{ATOM}}}link") if link.get("rel") == "enclosure"
    ]
    media = element.findall(f"{{{MEDIA}}}content") + element.findall(f"{{{MEDIA}}}group/{{{MEDIA}}}content")
    found += [
        Candidate(url=m.get("url", ""), type=m.get("type", ""), length=m.get("fileSize", ""),
                  medium=m.get("medium", ""), duration=m.get("duration", ""), source="media:content")
        for m in media
    ]
    return [candidate for candidate in found if candidate.url.strip()]


def choose(found):
    """(the episode's file or None, [(candidate, kind) passed over]) by PREFERENCE, first of a kind winning."""
    ranked = [(PREFERENCE.get(candidate.kind()), position, candidate) for position, candidate in enumerate(found)]
    usable = sorted((rank, position, c) for rank, position, c in ranked if rank is not None)
    if not usable:
        return None, [(c, c.kind()) for c in found]
    chosen = usable[0][2]
    # Only what was refused for its kind is worth telling: a second copy in another format is not news.
    passed_over = [(c, c.kind()) for rank, _, c in ranked if rank is None]
    return chosen, passed_over
