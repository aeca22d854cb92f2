"""Each episode's approved notes as an Atom feed, newest first."""

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from companion.text import XMLSafeGenerator
from episodes.models import Episode

from .models import Note


class NotesAtom(Atom1Feed):
    """Atom with the note's sanitised HTML as the entry's <content>."""

    def write(self, outfile, encoding):
        # Atom1Feed.write, with a writer that drops what XML can't carry: a note or a
        # name stored before input was cleaned must not break the feed for everyone.
        handler = XMLSafeGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content"], {"type": "html"})


class NotesFeed(Feed):
    feed_type = NotesAtom

    def get_object(self, request, slug):
        return get_object_or_404(Episode.objects.published(), slug=slug)

    def title(self, episode):
        return f"Notes on {episode.numbered_title}"

    def link(self, episode):
        return reverse("notes:list", args=[episode.slug])

    def subtitle(self, episode):
        return "Listeners' notes on passages of the episode, newest first."

    def items(self, episode):
        return (
            Note.objects.public()
            .filter(episode=episode)
            .select_related("author", "episode")
            .order_by("-created", "-pk")[:50]
        )

    def item_title(self, note):
        verb = "replied about" if note.parent_id else "on"
        quote = " ".join(note.quote_exact.split())
        quote = quote if len(quote) <= 80 else quote[:79] + "…"
        return f"{note.author.public_name} {verb} “{quote}”"

    def item_description(self, note):
        return None

    def item_link(self, note):
        return note.get_absolute_url()

    def item_author_name(self, note):
        return note.author.public_name

    def item_pubdate(self, note):
        return note.created

    def item_updateddate(self, note):
        return note.edited_at or note.created

    def item_extra_kwargs(self, note):
        return {"content": note.body_html}
