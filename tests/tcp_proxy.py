"""A TCP proxy for fault tests: put it between the app and PostgreSQL or Redis, then cut it.

The shared PostgreSQL and Redis servers are never restarted (other test runs use them);
cutting the proxy is what a restart looks like from the application's side: every open
connection drops at once and new ones are refused until the server is back.

    proxy = TcpProxy("127.0.0.1", 5432).start()   # the app connects to proxy.port
    proxy.cut()                                    # drop everything, refuse new connections
    proxy.restore()                                # accept again, on the same port
    proxy.cut_when(b"INSERT INTO")                 # cut the moment a client sends this
    proxy.blackhole_after(b"COPY ")                # then go silent: no FIN, no RST, no reading

A blackholed connection is what a vanished peer (a dead host, a dropped NAT entry, a
partition) looks like from the application: its sockets stay open, nothing it sends gets
through, nothing comes back. The proxy stops reading, so with a small `receive_buffer` the
client's unsent data backs up behind a zero window, as it would behind a dead network, and
only a TCP user timeout or keepalive tells the client the peer is gone.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Self


def _shut(sock: socket.socket) -> None:
    # shutdown() wakes a thread blocked in recv() on this socket; close() alone does not.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream address, one thread per direction per connection."""

    def __init__(self, upstream_host: str, upstream_port: int, *, receive_buffer: int | None = None) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.receive_buffer = receive_buffer
        self.blackholed = threading.Event()
        self._blackhole_after: bytes | None = None
        self._silence_armed = False
        self.port = 0
        self.connections_seen = 0
        self.tripped = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._trigger: bytes | None = None
        self._released = threading.Event()

    def start(self) -> Self:
        self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.receive_buffer is not None:
            # Set before listen() so accepted connections start with a small window.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed by cut()
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _shut(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut while we were connecting
                    _shut(client)
                    _shut(upstream)
                    continue
                self._open |= {client, upstream}
                self.connections_seen += 1
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        tail = b""
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            if self.blackholed.is_set() or (from_client and self._silence_armed):
                # Gone silent: this and everything after it is dropped, and neither side is
                # read from again, until cut() or close() shuts the sockets.
                self.blackholed.set()
                self._released.wait()
                break
            silence = self._blackhole_after
            if from_client and silence is not None and silence in tail + data:
                # The statement goes through (the server answers it); what follows does not.
                self._blackhole_after = None
                self._silence_armed = True
            trigger = self._trigger
            if from_client and trigger is not None:
                if trigger in tail + data:
                    # The statement never reaches the server: as if it died just before it.
                    self._trigger = None
                    self.tripped.set()
                    self.cut()
                    return
                tail = data[-len(trigger) :]
            elif from_client and silence is not None:
                tail = data[-len(silence) :]
            try:
                target.sendall(data)
            except OSError:
                break
        _shut(source)
        _shut(target)
        with self._lock:
            self._open -= {source, target}

    def blackhole_after(self, pattern: bytes) -> None:
        """Forward the client's `pattern` and the server's answer, then go silent on every connection."""
        self.blackholed.clear()
        self._released.clear()
        self._blackhole_after = pattern

    def cut(self) -> None:
        """Drop every proxied connection and refuse new ones until restore()."""
        self._silence_armed = False
        self.blackholed.clear()
        self._released.set()
        with self._lock:
            listener, self._listener = self._listener, None
            dropped, self._open = self._open, set()
        if listener is not None:
            _shut(listener)
        for sock in dropped:
            _shut(sock)

    def cut_when(self, pattern: bytes) -> None:
        """Cut everything as soon as a client sends `pattern` (which is not forwarded)."""
        self.tripped.clear()
        self._trigger = pattern

    def restore(self) -> None:
        """Accept connections again on the same port."""
        with self._lock:
            if self._listener is not None:
                return
        self._listen()

    def close(self) -> None:
        self._trigger = None
        self._blackhole_after = None
        self.cut()
