"""WSGI entry point for gunicorn: `gunicorn companion.wsgi`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "companion.settings")

from companion.page_memory import PageMemory  # noqa: E402  (needs the settings module named)

# Repeats of shared pages are answered from the worker's memory before Django runs.
application = PageMemory(get_wsgi_application())
