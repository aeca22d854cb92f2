"""
Note, Flag and ModerationEvent, taken over from the episodes app: the tables
(episodes_note, episodes_flag, episodes_moderationevent) exist already, made by
episodes 0005, so this changes Django's state only.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('episodes', '0012_models_moved_to_their_apps'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='Note',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('body', models.TextField(help_text='Markdown: emphasis, links, lists, quotes, inline code.')),
                    ('body_html', models.TextField(editable=False, help_text='Rendered and sanitised at write time.')),
                    ('status', models.CharField(choices=[('pending', 'Waiting for a moderator'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('spam', 'Spam')], db_index=True, default='approved', max_length=10)),
                    ('quote_exact', models.TextField(blank=True)),
                    ('quote_prefix', models.CharField(blank=True, max_length=64)),
                    ('quote_suffix', models.CharField(blank=True, max_length=64)),
                    ('position_start', models.PositiveIntegerField(default=0)),
                    ('position_end', models.PositiveIntegerField(default=0)),
                    ('media_start', models.FloatField(blank=True, null=True)),
                    ('media_end', models.FloatField(blank=True, null=True)),
                    ('orphaned', models.BooleanField(default=False, help_text='Its quote is no longer in the transcript.')),
                    ('created', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ('edited_at', models.DateTimeField(blank=True, null=True)),
                    ('deleted_at', models.DateTimeField(blank=True, null=True)),
                    ('idempotency_key', models.CharField(help_text='One note per form, however often it is sent.', max_length=64)),
                    ('author', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notes', to=settings.AUTH_USER_MODEL)),
                    ('episode', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notes', to='episodes.episode')),
                    ('first_sentence', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='episodes.sentence')),
                    ('last_sentence', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='episodes.sentence')),
                    ('parent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='replies', to='notes.note')),
                ],
                options={
                    'db_table': 'episodes_note',
                    'ordering': ['created'],
                },
            ),
            migrations.CreateModel(
                name='ModerationEvent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('action', models.CharField(choices=[('approve', 'Approved'), ('reject', 'Rejected'), ('spam', 'Marked as spam'), ('ban', 'Banned the author'), ('restore', 'Restored'), ('flag', 'Flagged')], max_length=10)),
                    ('reason', models.CharField(blank=True, max_length=300)),
                    ('created', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('subject', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('note', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='events', to='notes.note')),
                ],
                options={
                    'db_table': 'episodes_moderationevent',
                    'ordering': ['-created'],
                },
            ),
            migrations.CreateModel(
                name='Flag',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('reason', models.CharField(choices=[('spam', 'Spam or advertising'), ('abuse', 'Abusive or hateful'), ('off_topic', 'Off topic'), ('wrong', 'Factually wrong'), ('other', 'Something else')], max_length=20)),
                    ('detail', models.CharField(blank=True, max_length=300)),
                    ('created', models.DateTimeField(default=django.utils.timezone.now)),
                    ('resolved', models.BooleanField(db_index=True, default=False)),
                    ('reporter', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('note', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='flags', to='notes.note')),
                ],
                options={
                    'db_table': 'episodes_flag',
                },
            ),
            migrations.AddIndex(
                model_name='note',
                index=models.Index(fields=['episode', 'status', 'parent'], name='episodes_no_episode_0d421a_idx'),
            ),
            migrations.AddConstraint(
                model_name='note',
                constraint=models.UniqueConstraint(fields=('author', 'idempotency_key'), name='note_sent_once'),
            ),
            migrations.AddConstraint(
                model_name='note',
                constraint=models.CheckConstraint(condition=models.Q(('position_start__lte', models.F('position_end'))), name='note_span_in_order'),
            ),
            migrations.AddConstraint(
                model_name='flag',
                constraint=models.UniqueConstraint(fields=('note', 'reporter'), name='flag_once_per_reader'),
            ),
        ]),
    ]
