"""
The timeline: dated events the episodes narrate, each linked to the moment it is told.

Public surface: Event (timeline.models); the pages under the "timeline"
namespace (timeline/urls.py: /timeline/ and /timeline.json for TimelineJS);
the events section of person and term pages, registered in timeline/apps.py
through episodes.extensions; the demo's events.yaml, loaded when the demo is
(episodes.signals.demo_loaded).
"""
