from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save


class CompanionConfig(AppConfig):
    """The project itself: its management commands (backup, restore); shared caches told of edits and sign-ins."""

    name = "companion"
    verbose_name = "Companion"

    def ready(self):
        from django.contrib import admin

        from .shared_pages import note_sign_in_or_out, purge_after_commit

        # The admin is the editors' workplace: named for them, opening on what needs doing (desk.py).
        admin.site.site_header = "Companion: the editor’s desk"
        admin.site.site_title = "Companion editors"
        admin.site.index_title = "The editor’s desk"
        admin.site.index_template = "admin/desk_index.html"

        post_save.connect(purge_after_commit, dispatch_uid="shared_pages.purge_on_save")
        post_delete.connect(purge_after_commit, dispatch_uid="shared_pages.purge_on_delete")
        user_logged_in.connect(note_sign_in_or_out, dispatch_uid="shared_pages.signed_in")
        user_logged_out.connect(note_sign_in_or_out, dispatch_uid="shared_pages.signed_out")
