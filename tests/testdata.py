"""Where the tests' data lives (tests/data/README.md says where each file came from)."""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
FEEDS = DATA / "feeds"
WEBVTT_WPT = DATA / "webvtt-wpt"
PODCASTING2 = DATA / "podcasting2"
TLS = DATA / "tls"
