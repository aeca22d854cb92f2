"""
Listeners' discussion notes, anchored to a passage and a moment of an episode.

Public surface: the models Note, Flag and ModerationEvent (notes.models);
moderate() (notes.moderation), the one way to change a note's status; the
URLs under the "notes" namespace (notes/urls.py). What the notes add to the
episodes app's pages (badges, the note dialog, a search group) is registered
in notes/apps.py through episodes.extensions, and the app keeps its notes in
step with transcripts through episodes.signals.
"""
