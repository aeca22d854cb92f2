"""
The admin's side of where a term's or person's names link: inlines for its
aliases in one series or episode and its ambiguity rules, and a preview of
what an edit to any of these (or to its name and site-wide aliases) would
change before it is saved.
"""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse

from .linking import names_of, preview_relink
from .models import AmbiguityRule, ScopedAlias

APPLY = "_apply_links"  # the preview's "Apply" button: save as posted, no second preview


class ScopedAliasInline(admin.TabularInline):
    model = ScopedAlias
    extra = 0
    fields = ["text", "series", "episode"]
    autocomplete_fields = ["episode"]
    verbose_name_plural = "aliases only in one series or episode (an episode's own wording)"


class AmbiguityRuleInline(admin.TabularInline):
    model = AmbiguityRule
    extra = 0
    fields = ["alias", "phrase", "series"]
    verbose_name_plural = "ambiguity rules: where a name means something else and must not link"


class LinksWouldChange(Exception):
    """Raised inside the admin's save transaction: it rolls the edit back, and the preview is shown."""

    def __init__(self, changes):
        super().__init__()
        self.changes = changes


class PreviewLinksMixin:
    """
    An edit to an entry's name, aliases, scoped aliases or ambiguity rules
    that would change links shows them first: per episode, the links added
    and removed, with Apply and Cancel. The edit is saved as usual, the
    linker runs without writing (linking.preview_relink), and raising
    LinksWouldChange rolls all of it back; Apply posts the same form again.
    An edit that changes no link is saved at once, and relinked as before.
    """

    link_fields = {"name", "aliases"}
    link_preview_template = "admin/episodes/link_preview.html"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except LinksWouldChange as preview:
            return self.link_preview(request, object_id, preview.changes)

    def save_model(self, request, obj, form, change):
        # The names before the edit: the mentions stored now came from them.
        form.names_before_edit = names_of(obj) if change else set()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if APPLY in request.POST or not self.edits_names(form, formsets):
            return
        changes = preview_relink(form.names_before_edit | names_of(form.instance))
        if changes:
            raise LinksWouldChange(changes)

    def edits_names(self, form, formsets):
        return bool(self.link_fields & set(form.changed_data)) or any(
            formset.has_changed() for formset in formsets if formset.model in (ScopedAlias, AmbiguityRule)
        )

    def link_preview(self, request, object_id, changes):
        opts = self.opts
        if object_id:
            cancel_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
        else:
            cancel_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Links this edit would change",
            "opts": opts,
            "entry_name": request.POST.get("name", ""),
            "episodes": changes,
            "added": sum(len(episode.added) for episode in changes),
            "removed": sum(len(episode.removed) for episode in changes),
            "taken": [pair for episode in changes for pair in episode.taken],
            "posted": [
                (key, value) for key, values in request.POST.lists()
                if key not in ("csrfmiddlewaretoken", APPLY) for value in values
            ],
            "apply": APPLY,
            "cancel_url": cancel_url,
        }
        return TemplateResponse(request, self.link_preview_template, context)
