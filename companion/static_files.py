"""
whitenoise's compressed manifest storage, with each static URL worked out once per worker.

{% static %} looks the hashed name up in the manifest, then joins and quotes
it on every call: about 40 µs, five to eight times a page, for an answer that
changes only when collectstatic runs again, which needs a restart anyway
(docs/load-benchmark.md).
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.urls = {}

    def url(self, name, force=False):
        if force:
            return super().url(name, force)
        try:
            return self.urls[name]
        except KeyError:
            url = self.urls[name] = super().url(name)
            return url
