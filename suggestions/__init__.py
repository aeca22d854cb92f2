"""
Suggested entries: the people, places, organisations and terms a new transcript
names that the show has no entry for, found in the background after an import
and curated by an editor.

Public surface: Suggestion and RejectedName (suggestions.models); the finder
itself, free of Django (suggestions.finder); suggest_for() and the editor's
decisions (suggestions.suggesting); the suggest_entries task, queued when
episodes.signals.transcript_replaced says a transcript arrived; the queue
under the "suggestions" namespace (/suggestions/, staff only).
"""
