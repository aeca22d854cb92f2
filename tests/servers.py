"""Local HTTP servers for fetchers under test, and a network that leads to them: no internet needed."""

import contextlib
import functools
import http.server
import ssl
import threading
import time

from companion.fetch import Network


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


# --- An origin for the fetcher's tests, and a network that leads made-up names to it ---------

#: A public address (example.com's, once): the fetcher's check lets it through, and
#: RoutedNetwork sends connections to it to a local server instead. Nothing reaches it.
PUBLIC_ADDRESS = "93.184.215.14"
GIGABYTE = 1024**3


class RoutedNetwork(Network):
    """
    companion.fetch's network in a test (monkeypatch it onto fetch.network): the
    given host names resolve to PUBLIC_ADDRESS, and a connection to that address
    reaches the local server on `port`. Anything else resolves and connects as
    the system does (literals and localhost need no DNS). Every resolution and
    connection is recorded, so a test can show what was never tried.
    """

    def __init__(self, names, port):
        self.names, self.port = set(names), port
        self.resolved, self.connections = [], []

    def resolve(self, host, port):
        self.resolved.append(host)
        if host in self.names:
            return [PUBLIC_ADDRESS]
        return super().resolve(host, port)

    def connect(self, address, port, timeout):
        self.connections.append(address)
        if address == PUBLIC_ADDRESS:
            address, port = "127.0.0.1", self.port
        return super().connect(address, port, timeout)


class OriginHandler(http.server.BaseHTTPRequestHandler):
    """
    The origin's answers: its `files` by path; /redirect?to=URL (a 302 there);
    /gigabyte, a gigabyte of zeros with no length announced, streamed until the
    client hangs up; /gigabyte-declared, the same announced; /drip, a byte every
    0.2 s. Paths asked for, bytes sent and TLS server names seen are recorded.
    """

    ZEROS = bytes(64 * 1024)

    def do_GET(self):
        origin = self.server.origin
        origin.paths.append(self.path)
        path, _, query = self.path.partition("?")
        if path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query.removeprefix("to="))
            self.end_headers()
        elif path in ("/gigabyte", "/gigabyte-declared"):
            self.send_response(200)
            if path == "/gigabyte-declared":
                self.send_header("Content-Length", str(GIGABYTE))
            self.end_headers()
            self.stream(GIGABYTE, self.ZEROS)
        elif path == "/drip":
            self.send_response(200)
            self.end_headers()
            self.stream(100, b".", pause=0.2)
        elif path in origin.files:
            body = origin.files[path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def stream(self, size, chunk, pause=0):
        origin = self.server.origin
        try:
            while origin.sent < size:
                self.wfile.write(chunk)
                origin.sent += len(chunk)
                time.sleep(pause)
        except OSError:
            pass  # the client hung up: what a refused download does
        finally:
            origin.stream_ended.set()

    def log_message(self, *args):
        pass


class Origin:
    def __init__(self, server, files):
        self.server, self.files = server, files
        self.port = server.server_port
        self.paths, self.sni, self.sent = [], [], 0
        # Set when a stream ends: the client may see a chunk before this thread counts it.
        self.stream_ended = threading.Event()


@contextlib.contextmanager
def serve_origin(files=None, certificate=None):
    """An Origin on 127.0.0.1 (over TLS with a certificate file: its key after the certificate)."""
    server = QuietServer(("127.0.0.1", 0), OriginHandler)
    origin = server.origin = Origin(server, files or {})
    if certificate:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate)
        context.sni_callback = lambda sock, name, context: origin.sni.append(name)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
