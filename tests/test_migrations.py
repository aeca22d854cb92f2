"""
A database made before notes, runs and events moved to their own apps keeps
every row, permission and queued task when it is migrated forward.

The old database is built here the way it was: migrated to the last migration
before the move (episodes 0011), so that Django makes the old content types and
permissions (episodes.note, …); then filled; then migrated to the end. Each
step is a separate process against a SQLite file of the test's own.
"""

import json
import os
import subprocess
import sys

from django.conf import settings

BEFORE_THE_MOVE = [
    ["accounts"], ["admin"], ["sessions"], ["django_tasks_database"], ["episodes", "0011_alignment_heartbeat"],
]

FILL = """
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from alignment.models import AlignmentRun
from episodes.models import Episode, Sentence
from notes.models import Flag, ModerationEvent, Note
from timeline.models import Event

# The episode row as the table was then: today's model may have columns the old table lacks.
then = MigrationLoader(connection).project_state(("episodes", "0011_alignment_heartbeat")).apps
made = then.get_model("episodes", "Episode").objects.create(number=1, slug="one", title="One")
episode = Episode.objects.only("id").get(pk=made.pk)
sentence = Sentence.objects.create(episode=episode, position=1, paragraph=1, text="Kirov was shot.")
reader, moderator = User.objects.create(username="reader"), User.objects.create(username="moderator")
with episode.writing():
    note = Note.objects.create(episode=episode, author=reader, body="Why?", body_html="<p>Why?</p>",
                               first_sentence=sentence, last_sentence=sentence, idempotency_key="k")
Flag.objects.create(note=note, reporter=moderator, reason="spam")
ModerationEvent.objects.create(actor=moderator, note=note, subject=reader, action="approve")
run = AlignmentRun.objects.create(episode=episode, audio="a.mp3")
event = Event.objects.create(title="Kirov is shot", slug="kirov", date="1934-12-01", description="Shot.")
event.sentences.add(sentence)
old = {model: ContentType.objects.get(app_label="episodes", model=model).pk
       for model in ("note", "flag", "moderationevent", "alignmentrun", "event")}
moderator.user_permissions.add(Permission.objects.get(content_type_id=old["note"], codename="change_note"))
DBTaskResult.objects.create(
    task_path="episodes.tasks.align_episode", args_kwargs={"args": [run.pk], "kwargs": {}},
    queue_name="default", backend_name="default", run_after=timezone.now(), priority=0,
    exception_class_path="", traceback="",
)
print(json.dumps(old))
"""

READ = """
from django.contrib.contenttypes.models import ContentType
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from alignment.models import AlignmentRun
from notes.models import Flag, ModerationEvent, Note
from timeline.models import Event

moderator = User.objects.get(username="moderator")
task = DBTaskResult.objects.get()
print(json.dumps({
    "rows": [Note.objects.count(), Flag.objects.count(), ModerationEvent.objects.count(),
             AlignmentRun.objects.count(), Event.objects.count(), Event.objects.get().sentences.count()],
    "types": {ct.model: [ct.app_label, ct.pk] for ct in ContentType.objects.filter(
        model__in=["note", "flag", "moderationevent", "alignmentrun", "event"])},
    "may_moderate": moderator.has_perm("notes.change_note"),
    "task": [task.task_path, task.status, import_string(task.task_path).name],
}))
"""


def run(database, *args):
    environment = os.environ | {"DATABASE_URL": f"sqlite:///{database}", "DJANGO_DEBUG": "true"}
    environment.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, *args], cwd=settings.BASE_DIR, env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def django_script(database, body):
    setup = "import json, django; django.setup()\n"
    return json.loads(run(database, "-c", setup + body).strip().splitlines()[-1])


def test_a_database_from_before_the_move_keeps_rows_permissions_and_queued_tasks(tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "companion.settings")
    database = tmp_path / "before.sqlite3"
    for target in BEFORE_THE_MOVE:
        run(database, "manage.py", "migrate", *target, "--noinput")
    old_types = django_script(database, FILL)

    run(database, "manage.py", "migrate", "--noinput")
    after = django_script(database, READ)

    assert after["rows"] == [1, 1, 1, 1, 1, 1]
    moved = {"note": "notes", "flag": "notes", "moderationevent": "notes", "alignmentrun": "alignment",
             "event": "timeline"}
    assert after["types"] == {model: [app, old_types[model]] for model, app in moved.items()}
    assert after["may_moderate"] is True
    assert after["task"] == ["alignment.tasks.align_episode", "READY", "align_episode"]
