"""
Aliases that link only in one series or episode (ScopedAlias), and ambiguity
rules (AmbiguityRule): where a name must not link, near a phrase or in a
series. Site-wide aliases stay in the entries' aliases column.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('episodes', '0012_models_moved_to_their_apps'),
    ]

    operations = [
        migrations.CreateModel(
            name='AmbiguityRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('alias', models.CharField(blank=True, help_text='The name or alias this is about (any of its scoped aliases too); blank for all of them.', max_length=200)),
                ('phrase', models.CharField(blank=True, help_text="A phrase containing the alias (Kirov Plant, Molotov cocktail): nothing links inside it. Any other word or phrase (aircraft): the alias doesn't link in a sentence that also says it.", max_length=200, verbose_name='not near')),
                ('person', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, to='episodes.person')),
                ('series', models.ForeignKey(blank=True, help_text='Or: the alias never links in this series.', null=True, on_delete=django.db.models.deletion.CASCADE, to='episodes.series', verbose_name='not in series')),
                ('term', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, to='episodes.term')),
            ],
            options={
                'verbose_name': 'ambiguity rule',
                'ordering': ['alias', 'phrase', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('term__isnull', False), ('person__isnull', True)), models.Q(('term__isnull', True), ('person__isnull', False)), _connector='OR'), name='ambiguityrule_term_xor_person'), models.CheckConstraint(condition=models.Q(models.Q(models.Q(('phrase', ''), _negated=True), ('series__isnull', True)), models.Q(('phrase', ''), ('series__isnull', False)), _connector='OR'), name='ambiguityrule_phrase_xor_series')],
            },
        ),
        migrations.CreateModel(
            name='ScopedAlias',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.CharField(help_text='Matched like a site-wide alias: whole words, plurals and possessives free.', max_length=200, verbose_name='alias')),
                ('episode', models.ForeignKey(blank=True, help_text='…or only in this episode.', null=True, on_delete=django.db.models.deletion.CASCADE, to='episodes.episode')),
                ('person', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, to='episodes.person')),
                ('series', models.ForeignKey(blank=True, help_text="Links only in this series' episodes…", null=True, on_delete=django.db.models.deletion.CASCADE, to='episodes.series')),
                ('term', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, to='episodes.term')),
            ],
            options={
                'verbose_name': 'alias in one series or episode',
                'verbose_name_plural': 'aliases in one series or episode',
                'ordering': ['text', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('term__isnull', False), ('person__isnull', True)), models.Q(('term__isnull', True), ('person__isnull', False)), _connector='OR'), name='scopedalias_term_xor_person'), models.CheckConstraint(condition=models.Q(models.Q(('series__isnull', False), ('episode__isnull', True)), models.Q(('series__isnull', True), ('episode__isnull', False)), _connector='OR'), name='scopedalias_series_xor_episode')],
            },
        ),
    ]
