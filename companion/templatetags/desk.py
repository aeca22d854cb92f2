from django import template

from companion.desk import desk_items

register = template.Library()


@register.simple_tag
def editor_desk():
    """The editor's home's counts (companion/desk.py), for the admin's index page."""
    return desk_items()
