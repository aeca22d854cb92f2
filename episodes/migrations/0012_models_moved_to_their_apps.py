"""
Notes, alignment runs and timeline events moved to their own apps (notes, alignment,
timeline): their tables stay as they are (db_table), so this only changes Django's
idea of which app owns them. Their content types and permissions move in those
apps' 0002 migrations.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('episodes', '0011_alignment_heartbeat'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.RemoveField(
                model_name='alignmentrun',
                name='episode',
            ),
            migrations.RemoveConstraint(
                model_name='event',
                name='event_end_not_before_start',
            ),
            migrations.RemoveConstraint(
                model_name='event',
                name='event_has_description',
            ),
            migrations.RemoveConstraint(
                model_name='flag',
                name='flag_once_per_reader',
            ),
            migrations.RemoveField(
                model_name='moderationevent',
                name='actor',
            ),
            migrations.RemoveField(
                model_name='moderationevent',
                name='note',
            ),
            migrations.RemoveField(
                model_name='moderationevent',
                name='subject',
            ),
            migrations.RemoveIndex(
                model_name='note',
                name='episodes_no_episode_0d421a_idx',
            ),
            migrations.RemoveConstraint(
                model_name='note',
                name='note_sent_once',
            ),
            migrations.RemoveConstraint(
                model_name='note',
                name='note_span_in_order',
            ),
            migrations.DeleteModel(
                name='AlignmentRun',
            ),
            migrations.RemoveField(
                model_name='event',
                name='people',
            ),
            migrations.RemoveField(
                model_name='event',
                name='sentences',
            ),
            migrations.RemoveField(
                model_name='event',
                name='terms',
            ),
            migrations.RemoveField(
                model_name='flag',
                name='note',
            ),
            migrations.RemoveField(
                model_name='flag',
                name='reporter',
            ),
            migrations.DeleteModel(
                name='ModerationEvent',
            ),
            migrations.RemoveField(
                model_name='note',
                name='author',
            ),
            migrations.RemoveField(
                model_name='note',
                name='episode',
            ),
            migrations.RemoveField(
                model_name='note',
                name='first_sentence',
            ),
            migrations.RemoveField(
                model_name='note',
                name='last_sentence',
            ),
            migrations.RemoveField(
                model_name='note',
                name='parent',
            ),
            migrations.DeleteModel(
                name='Event',
            ),
            migrations.DeleteModel(
                name='Flag',
            ),
            migrations.DeleteModel(
                name='Note',
            ),
        ]),
    ]
