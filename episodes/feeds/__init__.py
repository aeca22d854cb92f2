"""
Podcast feeds: reading the show's RSS (parse.py, fetch.py, files.py for the
transcripts and chapters it links, imports.py to store it, admin.py for the
"Import feed" page), and writing our own /feed.xml (podcast.py) with each
episode's chapters.json (chapters.py).
"""
