"""
Alignment tasks already in the queue name their function by its old path,
episodes.tasks.align_episode; the function is now alignment.tasks.align_episode.
Rewriting the queued rows lets a worker of the new code run them (and the
admin's task list still open the finished ones).
"""

from django.db import migrations

OLD, NEW = "episodes.tasks.align_episode", "alignment.tasks.align_episode"


def rename(old, new):
    def run(apps, schema_editor):
        DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
        DBTaskResult.objects.using(schema_editor.connection.alias).filter(task_path=old).update(task_path=new)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("alignment", "0002_content_types"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunPython(rename(OLD, NEW), rename(NEW, OLD)),
    ]
