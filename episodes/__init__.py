"""
The core: episodes and their sentences, the glossary, people and sources they
mention, and the pages that read them.

Public surface: the models (episodes.models: Episode, Sentence, Term, Person,
Mention, Source, Citation, Podcast, Series, Credit, Chapter, TranscriptLink);
importing a transcript (episodes.transcripts), relinking (episodes.linking),
search (episodes.search); the pages under the "episodes" namespace
(episodes/urls.py); subpackages timings/ (WebVTT, SRT, Podcasting 2.0 JSON and
HTML in and out), feeds/ (reading a podcast's RSS, writing ours, chapters) and
demo/ (the demo content). The apps built on this one (notes, timeline,
alignment) add to its pages through episodes.extensions and follow its writes
through episodes.signals; it imports none of them (.importlinter).
"""
