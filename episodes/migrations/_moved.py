"""
Moving models' identity to the app that now owns them, frozen for the
migrations that do it (notes, timeline and alignment 0002): never edit.

Renaming a content type's app label keeps its id, so the admin permissions
granted on it, admin log entries and any generic relation stay attached. Where
the new app's content type exists already (a post-migrate signal made it
before this ran), the old one's permissions are moved onto it first.
"""

from django.db import migrations


def move_content_types(old_app, new_app, models):
    def forward(apps, schema_editor):
        move(apps, schema_editor.connection.alias, old_app, new_app, models)

    def backward(apps, schema_editor):
        move(apps, schema_editor.connection.alias, new_app, old_app, models)

    return migrations.RunPython(forward, backward)


def move(apps, alias, from_app, to_app, models):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in models:
        old = ContentType.objects.using(alias).filter(app_label=from_app, model=model).first()
        if old is None:
            continue  # a new database: post-migrate makes the new one
        new = ContentType.objects.using(alias).filter(app_label=to_app, model=model).first()
        if new is None:
            old.app_label = to_app
            old.save(update_fields=["app_label"])
            continue
        for permission in Permission.objects.using(alias).filter(content_type=old):
            twin = Permission.objects.using(alias).filter(content_type=new, codename=permission.codename).first()
            if twin is None:
                permission.content_type = new
                permission.save(update_fields=["content_type"])
            else:  # both exist: keep the one people were granted, under the new type
                for through in (Permission.group_set.through, Permission.user_set.through):
                    through.objects.using(alias).filter(permission=twin).delete()
                twin.delete()
                permission.content_type = new
                permission.save(update_fields=["content_type"])
        old.delete()
