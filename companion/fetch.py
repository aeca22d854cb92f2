"""
The one way the server fetches a URL: feeds, the transcripts and chapters they
point at, and audio to align.

Every URL fetched here was written by someone outside (a feed's author, an
editor pasting a link, a server's redirect), so a fetch must not become a way
into the machine's own network:

- http and https only, redirects included, and at most MAX_REDIRECTS of them;
- the host is resolved once, and every address it resolves to must be public:
  not loopback, private, link-local, multicast, reserved or unspecified, in
  IPv4 or IPv6, with IPv4 inside IPv6 (mapped, 6to4, Teredo) unwrapped first;
- the connection goes to an address that was checked, never to the name again,
  so a DNS answer that changes between the check and the connection (DNS
  rebinding) reaches nothing new; TLS still checks the certificate against
  the host name (SNI and verification use the name, not the address);
- the body streams to a temporary file, cut at the caller's byte cap (a lying
  or absent Content-Length changes nothing) and at a total time limit, so a
  400 MB audio file never sits in memory and a server dripping bytes is cut off.

FETCH_ALLOW_PRIVATE (DJANGO_FETCH_ALLOW_PRIVATE) lets fetches reach loopback
and private addresses, for a feed on the same machine or network; the tests
serve their files from 127.0.0.1 with it. Every failure is a FetchError whose
message names the URL and says what went wrong, for a person to act on.

How names are resolved and connections opened is `network`, one object the
tests replace (tests/servers.py) to give a made-up host name a public address
that leads to a local server: no test needs the internet.
"""

import http.client
import ipaddress
import socket
import ssl
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from .params import int_or_none

TIMEOUT = 20  # seconds to connect, and to wait for each chunk
TOTAL_TIMEOUT = 120  # seconds for the whole fetch, redirects included
MAX_REDIRECTS = 5
USER_AGENT = "Companion"
CHUNK = 64 * 1024
REDIRECTS = {301, 302, 303, 307, 308}


class FetchError(Exception):
    """A URL that could not be fetched; the message names it and says why."""


class Network:
    """Name resolution and connections: the system's. Tests put their own in `network`."""

    def resolve(self, host, port):
        """Every address the host name stands for (a literal address stands for itself)."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(info[4][0] for info in infos))

    def connect(self, address, port, timeout):
        return socket.create_connection((address, port), timeout=timeout)


network = Network()


def is_public(address):
    """Whether an IP address is one the open internet routes to, and nothing more special."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("%eth0") is not part of it
    embedded = []
    if ip.version == 6:
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    special = (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified or not ip.is_global
    )
    return not special and all(is_public(str(inner)) for inner in embedded if inner is not None)


def allow_private():
    return getattr(settings, "FETCH_ALLOW_PRIVATE", False)


class Target:
    """One URL checked: its scheme, host, port, path, and the addresses we may connect to."""

    def __init__(self, url, redirected_from=None):
        self.url = url
        # What messages call it; after a redirect both, since the editor knows only the first.
        self.label = f"{url} (redirected from {redirected_from})" if redirected_from else url
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:  # a bad port, or brackets that don't close
            raise FetchError(f"{self.label}: not a usable URL ({error}).") from None
        self.scheme = parts.scheme.lower()
        if self.scheme not in ("http", "https"):
            raise FetchError(
                f"{self.label}: only http:// and https:// URLs are fetched, not {parts.scheme or 'a bare path'}."
            )
        if not parts.hostname:
            raise FetchError(f"{self.label}: the URL has no host.")
        try:
            self.host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise FetchError(f"{self.label}: {parts.hostname} is not a valid host name.") from None
        self.port = port or (443 if self.scheme == "https" else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.addresses = self.checked_addresses()

    def checked_addresses(self):
        try:
            addresses = network.resolve(self.host, self.port)
        except (OSError, UnicodeError) as error:
            raise FetchError(f"{self.label}: the host {self.host} cannot be found ({error}).") from None
        if not addresses:
            raise FetchError(f"{self.label}: the host {self.host} has no address.")
        if not allow_private():
            refused = [address for address in addresses if not is_public(address)]
            if refused:
                raise FetchError(
                    f"{self.label}: {self.host} is a local or private address ({refused[0]}); not fetched. "
                    "Only public addresses are fetched (DJANGO_FETCH_ALLOW_PRIVATE allows others)."
                )
        return addresses


def connect_to_one(target, timeout):
    """A socket to the first checked address that answers."""
    error = None
    for address in target.addresses:
        try:
            return network.connect(address, target.port, timeout)
        except OSError as problem:
            error = problem
    raise error


class PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to an address we checked, with the host name in the Host header."""

    def __init__(self, target, timeout):
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target

    def connect(self):
        self.sock = connect_to_one(self.target, self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address we checked; the certificate is verified against the host name."""

    def __init__(self, target, timeout):
        self.tls = ssl.create_default_context()  # CERT_REQUIRED, check_hostname
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.target = target

    def connect(self):
        self.sock = self.tls.wrap_socket(connect_to_one(self.target, self.timeout), server_hostname=self.target.host)


def size_text(size):
    return f"{size // (1024 * 1024)} MB ({size:,} bytes)"


class Download:
    """One fetch: follow checked redirects to a 2xx answer, then stream its body into a file."""

    def __init__(self, url, *, max_bytes, what, timeout, total_timeout):
        self.url, self.max_bytes, self.what = url, max_bytes, what
        self.timeout, self.total_timeout = timeout, total_timeout
        self.deadline = time.monotonic() + total_timeout

    def remaining(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"{self.url}: still downloading after {self.total_timeout} seconds; given up.")
        return min(self.timeout, left)

    def into(self, file):
        """Write the body to an open binary file; returns its size."""
        target = Target(self.url)
        for _ in range(MAX_REDIRECTS + 1):
            connection_class = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
            connection, response = connection_class(target, self.remaining()), None
            try:
                response = self.guarded(target.label, lambda: self.send(connection, target.path))
                location = response.getheader("Location")
                if response.status in REDIRECTS and location:
                    target = Target(urljoin(target.url, location.strip()), redirected_from=self.url)
                    continue
                if not 200 <= response.status < 300:
                    raise FetchError(f"{target.label}: the server answered {response.status} {response.reason}.")
                return self.stream(response, file, target.label)
            finally:
                if response is not None:
                    response.close()  # else its file keeps the socket open after connection.close()
                connection.close()
        raise FetchError(f"{self.url}: more than {MAX_REDIRECTS} redirects; given up.")

    @staticmethod
    def send(connection, path):
        connection.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        return connection.getresponse()

    def stream(self, response, file, label):
        # A length that isn't a plain number (², ten thousand digits) is ignored: the bytes are counted anyway.
        declared = int_or_none(response.getheader("Content-Length", "").strip())
        if declared is not None and declared > self.max_bytes:
            raise FetchError(
                f"{label}: the {self.what} is {declared:,} bytes; the limit is {size_text(self.max_bytes)}."
            )
        size = 0
        while True:
            # read1: what has arrived, up to CHUNK (read would wait for all of it). Each waits at
            # most `timeout`, and the deadline is checked between them, so a server dripping
            # bytes is cut off at most `timeout` past the total time limit.
            self.remaining()
            chunk = self.guarded(label, lambda: response.read1(CHUNK))
            if not chunk:
                return size
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"{label}: the {self.what} is larger than the limit of {size_text(self.max_bytes)}.")
            file.write(chunk)

    def guarded(self, label, step):
        """Run one network step, turning what can go wrong into a FetchError for a person."""
        try:
            return step()
        except FetchError:
            raise
        except TimeoutError:
            if time.monotonic() >= self.deadline:
                raise FetchError(f"{label}: still downloading after {self.total_timeout} seconds; given up.") from None
            raise FetchError(f"{label}: no answer within {self.timeout} seconds.") from None
        except ssl.SSLCertVerificationError as error:
            raise FetchError(f"{label}: the server's certificate is not valid ({error.verify_message}).") from None
        except ConnectionRefusedError:
            raise FetchError(f"{label}: could not be reached (the connection was refused).") from None
        except (OSError, http.client.HTTPException) as error:
            raise FetchError(f"{label}: could not be reached or read ({error or type(error).__name__}).") from None


def download(url, *, max_bytes, what="file", folder=None, suffix="", timeout=TIMEOUT, total_timeout=TOTAL_TIMEOUT):
    """
    GET url into a new file in folder (else the system's temporary folder) and
    return its path; the caller removes it. Nothing is left behind on failure.
    """
    url = (url or "").strip()
    handle, name = tempfile.mkstemp(prefix="companion-fetch-", suffix=suffix, dir=folder)
    path = Path(name)
    try:
        with open(handle, "wb") as file:
            Download(url, max_bytes=max_bytes, what=what, timeout=timeout, total_timeout=total_timeout).into(file)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def fetch_bytes(url, *, max_bytes, what="file", timeout=TIMEOUT, total_timeout=TOTAL_TIMEOUT):
    """The body of a GET on url, for files small enough to read whole (feeds, transcripts, chapters)."""
    url = (url or "").strip()
    with tempfile.TemporaryFile(prefix="companion-fetch-") as file:
        Download(url, max_bytes=max_bytes, what=what, timeout=timeout, total_timeout=total_timeout).into(file)
        file.seek(0)
        return file.read()
