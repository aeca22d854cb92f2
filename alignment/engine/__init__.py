"""
The aligner, free of Django (an import-linter contract): audio features
(audio.py), dynamic time warping (dtw.py), the reference narration with eSpeak
NG (narration.py, also the demo's synthetic audio), and align() tying them
together (align.py). It knows texts, files and seconds; the alignment app
stores what it finds.
"""
