"""The timeline in the admin: events with their people, terms and the sentences that tell them."""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Count

from companion.params import InvalidNumber, parse_int

from .models import Event


class YearFilter(admin.SimpleListFilter):
    """The years that have events, newest last, as the timeline reads."""

    title = "year"
    parameter_name = "year"

    def lookups(self, request, model_admin):
        return [(str(day.year), str(day.year)) for day in Event.objects.dates("date", "year")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:  # Python's dates run from year 1 to 9999
            year = parse_int(self.value(), minimum=1, maximum=9999, name="The year")
        except InvalidNumber as error:
            # The admin's answer to a filter it can't use: back to the whole list, here with why.
            messages.error(request, str(error))
            raise IncorrectLookupParameters(str(error)) from None
        return queryset.filter(date__year=year)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "when", "precision", "told_in"]
    list_filter = ["precision", YearFilter, ("people", admin.RelatedOnlyFieldListFilter),
                   ("terms", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "description", "people__name", "terms__name"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["people", "terms", "sentences"]
    fieldsets = [
        (None, {"fields": ["title", "slug", ("date", "precision", "end_date"), "description"]}),
        ("Links", {"fields": ["people", "terms", "sentences"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(sentence_count=Count("sentences", distinct=True))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "sentences":  # each chosen sentence is labelled with its episode
            kwargs["queryset"] = db_field.related_model.objects.select_related("episode")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Date", ordering="date")
    def when(self, event):
        return event.date_label

    @admin.display(description="Told in", ordering="sentence_count")
    def told_in(self, event):
        return f"{event.sentence_count} sentence{'s' if event.sentence_count != 1 else ''}"
