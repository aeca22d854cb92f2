"""
AlignmentRun, taken over from the episodes app: the table episodes_alignmentrun
exists already, made by episodes 0007 and 0011, so this changes Django's state only.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('episodes', '0012_models_moved_to_their_apps'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='AlignmentRun',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('audio', models.CharField(help_text='The file path or URL aligned against.', max_length=1000)),
                    ('keep_manual', models.BooleanField(default=True, help_text='Keep sentence starts an editor set by hand.')),
                    ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=10)),
                    ('progress', models.FloatField(default=0, help_text='0 to 1.')),
                    ('stage', models.CharField(blank=True, max_length=200)),
                    ('message', models.TextField(blank=True)),
                    ('result', models.JSONField(blank=True, default=dict)),
                    ('created', models.DateTimeField(auto_now_add=True)),
                    ('started', models.DateTimeField(blank=True, null=True)),
                    ('finished', models.DateTimeField(blank=True, null=True)),
                    ('heartbeat', models.DateTimeField(blank=True, help_text='The last sign of life from the worker running it.', null=True)),
                    ('episode', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alignment_runs', to='episodes.episode')),
                ],
                options={
                    'db_table': 'episodes_alignmentrun',
                    'ordering': ['-created'],
                },
            ),
        ]),
    ]
