"""A loopback HTTP file server with Range support and injectable faults.

Used by the crawler's tests and by the ``make build-data`` demo: it serves local files on 127.0.0.1 so the
whole yt-dlp path (generic extractor, HTTP downloader, resume, retries) runs without leaving the machine.

Faults are per path and can be limited to the first ``times`` requests, which is how "503 then 200" or
"429 with Retry-After then 200" are expressed. Every request is logged so tests can count downloads.
"""

from __future__ import annotations

import mimetypes
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["Fault", "LoopbackServer", "RequestRecord"]

FAULT_KINDS = ("status", "truncate", "slow", "trickle")
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Fault:
    """A fault injected on one path.

    kind: ``"status"`` answers ``status`` with no body (404, 403, 410, 429, 503, ...); ``"truncate"`` announces
    the full Content-Length (or none, with ``announce_length=False``) but sends only ``fraction`` of the
    bytes, then closes; ``"slow"`` sleeps
    ``delay_s`` before answering normally; ``"trickle"`` answers normally but sends the body ``chunk`` bytes
    at a time, ``delay_s`` apart (a server that never times out a socket yet never finishes).
    times: how many requests the fault applies to (then the path behaves normally); ``None`` = always.
    retry_after: value of the Retry-After header sent with a status fault (seconds), if any.
    """

    kind: str
    status: int = 503
    times: int | None = None
    retry_after: float | None = None
    fraction: float = 0.5
    delay_s: float = 0.0
    announce_length: bool = True  # truncate: send the full Content-Length (False: none, just close early)
    after: int = 0  # requests answered normally before the fault starts (e.g. 1: only the download fails)
    chunk: int = 1  # trickle: bytes per step

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")


@dataclass(frozen=True)
class RequestRecord:
    """One request the server answered."""

    method: str
    path: str
    status: int
    range: str | None
    bytes_sent: int  # bytes the server meant to send (a client may hang up earlier)
    fault: str | None
    authorization: str | None = None  # the request's Authorization header (tests of credential use)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Bounded: a request that stalls longer than this is dropped instead of holding a thread forever.
    request_timeout_s = 10.0

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hanging up mid-transfer (yt-dlp sniffing a page, a test timing out) are expected here.
        return


class LoopbackServer:
    """Serve ``files`` (URL path -> local file or bytes) on 127.0.0.1 with optional ``faults``.

    Use as a context manager; ``url(name)`` gives the full URL; ``requests`` is the request log.
    ``port``: a preferred port (0 = any free one; a taken port falls back to any free one).
    """

    def __init__(
        self,
        files: Mapping[str, Path | str | bytes],
        faults: Mapping[str, Fault] | None = None,
        port: int = 0,
    ) -> None:
        self._want_port = int(port)
        self._files = {self._norm(k): v for k, v in files.items()}
        self._faults = {self._norm(k): v for k, v in (faults or {}).items()}
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self.requests: list[RequestRecord] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @staticmethod
    def _norm(path: str) -> str:
        return "/" + path.lstrip("/")

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> LoopbackServer:
        self._stopping.clear()
        handler = _make_handler(self)
        try:
            self._httpd = _Server(("127.0.0.1", self._want_port), handler)
        except OSError:  # the preferred port is taken: any free one
            self._httpd = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # ends trickling answers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- queries ---------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}{self._norm(name)}"

    def hits(self, name: str, method: str | None = "GET") -> int:
        """Number of requests for ``name`` (GET only by default)."""
        path = self._norm(name)
        with self._lock:
            return sum(1 for r in self.requests if r.path == path and (method is None or r.method == method))

    def set_file(self, name: str, src: Path | str | bytes | None) -> None:
        """Serve ``src`` at ``name`` from now on (``None``: remove it, so it 404s)."""
        with self._lock:
            if src is None:
                self._files.pop(self._norm(name), None)
            else:
                self._files[self._norm(name)] = src

    def set_fault(self, name: str, fault: Fault | None) -> None:
        with self._lock:
            path = self._norm(name)
            if fault is None:
                self._faults.pop(path, None)
            else:
                self._faults[path] = fault
            self._hits.pop(path, None)

    # -- request handling (called from handler threads) ------------------------------------------------
    def _body(self, path: str) -> bytes | None:
        src = self._files.get(path)
        if src is None:
            return None
        if isinstance(src, bytes):
            return src
        return Path(src).read_bytes()

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            n = self._hits.get(path, 0)
            self._hits[path] = n + 1
            fault = self._faults.get(path)
        if fault is None or n < fault.after or (fault.times is not None and n >= fault.after + fault.times):
            return None
        return fault

    def _log(self, rec: RequestRecord) -> None:
        with self._lock:
            self.requests.append(rec)


def _make_handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = _Server.request_timeout_s

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence stderr
            return

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(head=True)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(head=False)

        def _record(self, method: str, path: str, status: int, rng: str | None, sent: int, fault: str | None):
            auth = self.headers.get("Authorization")
            server._log(RequestRecord(method, path, status, rng, sent, fault, auth))

        def _serve(self, head: bool) -> None:
            path = self.path.split("?", 1)[0]
            rng = self.headers.get("Range")
            fault = server._next_fault(path)
            fault_name = None
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay_s)
                fault_name = f"slow:{fault.delay_s}"
                fault = None
            if fault is not None and fault.kind == "status":
                self._record(self.command, path, fault.status, rng, 0, f"status:{fault.status}")
                self._plain(fault.status, fault.retry_after)
                return
            body = server._body(path)
            if body is None:
                self._record(self.command, path, 404, rng, 0, fault_name)
                self._plain(404, None)
                return
            status, start, end = 200, 0, len(body)
            if rng:
                m = _RANGE_RE.match(rng.strip())
                if m is None or (m.group(1) == "" and m.group(2) == ""):
                    self._record(self.command, path, 416, rng, 0, fault_name)
                    self._plain(416, None, extra={"Content-Range": f"bytes */{len(body)}"})
                    return
                if m.group(1) == "":  # suffix range: last N bytes
                    start = max(0, len(body) - int(m.group(2)))
                else:
                    start = int(m.group(1))
                    if m.group(2):
                        end = min(len(body), int(m.group(2)) + 1)
                if start >= len(body) or start >= end:
                    self._record(self.command, path, 416, rng, 0, fault_name)
                    self._plain(416, None, extra={"Content-Range": f"bytes */{len(body)}"})
                    return
                status = 206
            chunk = body[start:end]
            self.send_response(status)
            ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
            self.send_header("Content-Type", ctype)
            if fault is None or fault.kind != "truncate" or fault.announce_length:
                self.send_header("Content-Length", str(len(chunk)))
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(body)}")
            # Logged before the body goes out, so a client that has its answer always finds it in the log.
            if fault is not None and fault.kind == "truncate":
                # Announce the full length, send a prefix, and close: a classic truncated transfer.
                sent = 0 if head else int(len(chunk) * fault.fraction)
                self._record(self.command, path, status, rng, sent, "truncate")
                self.send_header("Connection", "close")
                self.end_headers()
                if not head:
                    self.wfile.write(chunk[:sent])
                    self.wfile.flush()
                self.close_connection = True
                return
            if fault is not None and fault.kind == "trickle":
                fault_name = f"trickle:{fault.chunk}/{fault.delay_s}s"
            self._record(self.command, path, status, rng, 0 if head else len(chunk), fault_name)
            self.end_headers()
            if head:
                return
            try:
                if fault is not None and fault.kind == "trickle":
                    self._trickle(chunk, max(1, fault.chunk), fault.delay_s)
                else:
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client hung up (e.g. yt-dlp sniffing only the first bytes)

        def _trickle(self, data: bytes, step: int, delay_s: float) -> None:
            for i in range(0, len(data), step):
                if server._stopping.wait(delay_s):
                    self.close_connection = True
                    return
                self.wfile.write(data[i : i + step])
                self.wfile.flush()

        def _plain(self, status: int, retry_after: float | None, extra: dict[str, str] | None = None) -> None:
            body = f"{status}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            if retry_after is not None:
                self.send_header("Retry-After", f"{retry_after:g}")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler
