"""
Notes are written in a small Markdown subset and stored rendered.

markdown-it-py parses with raw HTML switched off, and nh3 (an allow-list
sanitiser) keeps only the tags below, so nothing a listener writes can run
or restyle the page: no raw HTML, no images, no javascript: or data: links.
"""

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code", "pre"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}

markdown = (
    MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
    .disable(["image", "table", "heading", "lheading", "hr", "html_block", "html_inline"])
)


def render_markdown(text):
    """Safe HTML for a note's body."""
    html = markdown.render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow ugc noopener",
        strip_comments=True,
    )
