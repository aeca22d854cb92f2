"""
The yardstick load_benchmark.py measures the site against: the episode page's
exact bytes, served by WhiteNoise in front of an app that answers nothing
else, under the site's own gunicorn.conf.py and worker count. Nothing else is
done per request: no Django, no log line, no security headers. The file sits
in BARE_APP_ROOT, which the benchmark writes; WhiteNoise opens it per request
and gunicorn sends it with sendfile from the kernel's page cache, so the bytes
come from memory. WhiteNoise also answers If-None-Match with a 304, the
yardstick for the site's 304.

    gunicorn bare_app:application --config gunicorn.conf.py --pythonpath benchmarks
"""

import os

from whitenoise import WhiteNoise


def nothing_else(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]


application = WhiteNoise(nothing_else, root=os.environ["BARE_APP_ROOT"], prefix="/")
