"""A folder served over HTTP on 127.0.0.1, for fetchers under test (no network needed)."""

import contextlib
import functools
import http.server
import threading


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client hanging up on a refused download is the point of some tests


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_folder(folder, handler=QuietHandler):
    """Yield the base URL; shut down promptly (a 20 ms poll, not the default half second)."""
    server = QuietServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
