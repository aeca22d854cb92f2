"""
Pages of the episodes app that the apps built on it add to, without episodes
importing them (the import-linter contracts in .importlinter). Each app
registers its parts from its AppConfig.ready():

- an EpisodePagePart: the notes app's badges and note dialog on episode pages;
- an EntryPagePart: the timeline's events on person and term pages;
- a SearchGroup: the notes app's group of search results.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EpisodePagePart:
    # What one reader sees of the part (hashable, small): it goes into the page's ETag.
    reader_state: Callable
    # (request, episode, state, transcript HTML) -> context; "transcript" replaces the HTML.
    context: Callable
    # Slot ("head", "header", "tools", "reading") -> template included there in episodes/episode_detail.html;
    # "tools" is the floating toolbar for the sentence or words chosen in the transcript.
    templates: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EntryPagePart:
    context: Callable  # (request, entry: a Person or Term) -> context
    template: str  # included on the entry's page


@dataclass(frozen=True)
class SearchGroup:
    key: str
    label: str
    # (parsed query, the group asked for or None, offset, per page) -> episodes.search.Group
    find: Callable
    item_template: str  # one result, as a list item


episode_page_parts: list[EpisodePagePart] = []
entry_page_parts: list[EntryPagePart] = []
search_groups: list[SearchGroup] = []
