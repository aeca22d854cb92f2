from django import template

from episodes.moments import format_moment

register = template.Library()


@register.filter
def moment(seconds):
    """Seconds as the player shows them: 12:34."""
    return format_moment(seconds)
