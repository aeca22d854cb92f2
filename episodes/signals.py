"""
What the episodes app tells the apps built on it, which it never imports
(the import-linter contracts): they connect receivers in their AppConfig.ready().

- transcript_rendered(episode): the stored transcript was written again, after
  any change to sentences, timings, mentions or citations. The notes app
  recounts the note badges anonymous readers see.
- transcript_replaced(episode): a transcript import replaced the episode's
  sentences, inside the importer's transaction, with the episode row locked.
  Receivers re-attach what hangs on the old text (the notes app re-anchors its
  notes) and return a line for the import report.
- demo_loaded(episode, directory): the demo content was loaded from a folder,
  inside load_demo's transaction; the timeline app loads its events from it.
"""

from django.dispatch import Signal

transcript_rendered = Signal()
transcript_replaced = Signal()
demo_loaded = Signal()
