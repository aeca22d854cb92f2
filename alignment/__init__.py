"""
Aligning an episode's transcript to its real audio, and the editor's review of the result.

Public surface: AlignmentRun (alignment.models); start_alignment() and the
align_episode task (alignment.tasks); run_alignment() and align_audio()
(alignment.runs, also used by `manage.py align`); the review page under the
"alignment" namespace (alignment/urls.py); "Align to audio" on the episode's
admin page (alignment/admin.py). alignment.engine is the aligner itself, free
of Django (audio features, DTW, the eSpeak narration the demo also uses).
"""
