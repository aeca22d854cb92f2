from django import template

from episodes.moments import format_moment, moment_parameter as moment_value
from episodes.reverse_cache import cached_reverse

register = template.Library()


@register.filter
def moment(seconds):
    """Seconds as the player shows them: 12:34."""
    return format_moment(seconds)


@register.filter
def moment_parameter(seconds):
    """A sentence start as a ?t= value that lands on that sentence (754.2001 → 754.201)."""
    return moment_value(seconds)


@register.simple_tag
def cached_url(viewname, *args):
    """{% url %} for the links every page repeats, remembered (episodes/reverse_cache.py)."""
    return cached_reverse(viewname, *args)


@register.filter
def listening_time(duration):
    """A running time as a listener reads it: "18 min", "1 h 05 min" (a timedelta)."""
    minutes = round(duration.total_seconds() / 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
