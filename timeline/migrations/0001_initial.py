"""
Event, taken over from the episodes app: the table episodes_event and its
links exist already, made by episodes 0007, so this changes Django's state only.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('episodes', '0012_models_moved_to_their_apps'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='Event',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('title', models.CharField(max_length=200)),
                    ('slug', models.SlugField(max_length=200, unique=True)),
                    ('date', models.DateField(help_text='The first day the date could mean.')),
                    ('precision', models.CharField(choices=[('day', 'Day'), ('month', 'Month'), ('year', 'Year')], default='day', max_length=5)),
                    ('end_date', models.DateField(blank=True, help_text='For a range: its last day, at the same precision.', null=True)),
                    ('description', models.TextField(help_text='A short account, in our own words.')),
                    ('people', models.ManyToManyField(blank=True, related_name='events', to='episodes.person')),
                    ('sentences', models.ManyToManyField(blank=True, help_text='Where an episode tells it.', related_name='events', to='episodes.sentence')),
                    ('terms', models.ManyToManyField(blank=True, related_name='events', to='episodes.term')),
                ],
                options={
                    'db_table': 'episodes_event',
                    'ordering': ['date', 'end_date', 'title'],
                    'constraints': [models.CheckConstraint(condition=models.Q(('end_date__isnull', True), ('end_date__gte', models.F('date')), _connector='OR'), name='event_end_not_before_start'), models.CheckConstraint(condition=models.Q(('description', ''), _negated=True), name='event_has_description')],
                },
            ),
        ]),
    ]
