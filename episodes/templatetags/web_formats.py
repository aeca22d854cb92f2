"""{% social_meta %} and {% json_ld %}: the page as link previews and search engines read it."""

from django import template

from episodes import structured_data

register = template.Library()


@register.inclusion_tag("includes/social_meta.html", takes_context=True)
def social_meta(context):
    if context.get("request") is None:  # a page rendered without its request has no URL to share
        return {"meta": None}
    return {"meta": structured_data.social_meta(context), "site_name": structured_data.SITE_NAME}


@register.simple_tag(takes_context=True)
def json_ld(context):
    return structured_data.page_json_ld(context)
