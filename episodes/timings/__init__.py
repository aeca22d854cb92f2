"""
Timed transcripts: WebVTT, SRT and Podcasting 2.0 JSON and HTML read and written
(formats.py), their cues mapped onto our sentences by their words (cuemap.py),
timing files imported (imports.py) and our transcripts exported (exports.py).
"""
