#!/usr/bin/env python3
"""A Syncline backend in Python, with the standard library only.

Syncline asks it who connects, who may subscribe to private rooms, and what
the `lastSeen` RPC answers (the proxy, docs/proxy.md); it tells it when users
leave (webhooks, docs/webhooks.md). Browsers sign in at POST /login.

    python3 backend.py [--host 127.0.0.1] [--port 8000] [--db data/backend.sqlite3]
    python3 backend.py add-user NAME [--member private:ROOM]   # asks for the password

Routes (all POST, JSON bodies):

    /syncline/connect     proxy.connect     signed with proxy.secret
    /syncline/subscribe   proxy.namespaces.private.subscribe
    /syncline/rpc         proxy.rpc
    /syncline/webhooks    webhooks[0].url   signed with the webhook secret
    /login, /logout       the browser (CORS for ALLOWED_ORIGINS)

Settings come from the environment (defaults are the demo values of
syncline.config.json; change both sides together):

    SYNCLINE_PROXY_SECRET    proxy.secret; empty: proxy requests are not checked
    SYNCLINE_WEBHOOK_SECRET  the webhook entry's secret (always checked)
    ALLOWED_ORIGINS          browser origins for /login, comma-separated
    PORT, BACKEND_DB         instead of --port, --db
"""

import argparse
import getpass
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import handlers
import signature
from handlers import App, Answer, refusal
from store import Store

log = logging.getLogger("backend")

HERE = os.path.dirname(os.path.abspath(__file__))

# The demo secrets, equal to those in syncline.config.json. Anyone who has
# this repository has them: set your own on both sides before going anywhere.
DEMO_PROXY_SECRET = "demo-proxy-secret-change-me-0123456789abcdef"
DEMO_WEBHOOK_SECRET = "demo-webhook-secret-change-me-0123456789abcdef"

KIB = 1024


@dataclass(frozen=True)
class Route:
    handler: Callable[[App, Any], Answer]
    # Who may call it: "proxy" (Syncline, signed with the proxy secret when one
    # is set), "webhook" (Syncline, always signed) or "browser" (CORS).
    caller: str
    # Largest body accepted; a bigger one is refused with 413 before it is read.
    max_bytes: int


ROUTES: dict[str, Route] = {
    # The client's connectData is small (a session, a password); publish
    # payloads would need more, but this backend has no publish proxy.
    "/syncline/connect": Route(handlers.connect, "proxy", 64 * KIB),
    "/syncline/subscribe": Route(handlers.subscribe, "proxy", 64 * KIB),
    "/syncline/rpc": Route(handlers.rpc, "proxy", 64 * KIB),
    # Syncline's batches are at most `webhookDelivery.maxBatchBytes` (256 KiB
    # by default); keep that below this limit if you raise it.
    "/syncline/webhooks": Route(handlers.webhooks, "webhook", 1024 * KIB),
    "/login": Route(handlers.login, "browser", 4 * KIB),
    "/logout": Route(handlers.logout, "browser", 4 * KIB),
}


@dataclass(frozen=True)
class Settings:
    proxy_secret: str  # empty: proxy requests are not checked
    webhook_secret: str
    allowed_origins: frozenset[str]


class Server(ThreadingHTTPServer):
    """One thread per connection; the app and the settings for the handlers."""

    daemon_threads = True  # do not wait for open connections at exit

    def __init__(self, address: tuple[str, int], app: App, settings: Settings) -> None:
        super().__init__(address, Handler)
        self.app = app
        self.settings = settings


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "syncline-python-backend/1"
    # Keep-alive: Syncline reuses connections for its proxy requests.
    protocol_version = "HTTP/1.1"
    # Seconds a client may stay silent while sending a request (or between
    # requests on a kept-alive connection): slow clients do not keep threads.
    timeout = 15

    def do_POST(self) -> None:
        route = ROUTES.get(self.path)
        if route is None:
            self._send(HTTPStatus.NOT_FOUND, refusal("not_found", "No such route."), close=True)
            return
        if route.caller == "browser" and not self._origin_allowed():
            self._send(HTTPStatus.FORBIDDEN, refusal("forbidden", "Origin not allowed."), close=True)
            return

        body = self._read_body(route.max_bytes)
        if body is None:
            return  # already answered (411, 413 or 400) or the client went away

        if not self._signature_ok(route.caller, body):
            log.warning("refused %s: bad or missing %s", self.path, signature.HEADER)
            self._send(HTTPStatus.UNAUTHORIZED, refusal("unauthorized", f"Bad or missing {signature.HEADER}."))
            return

        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._send(HTTPStatus.BAD_REQUEST, refusal("invalid_data", "The body is not JSON."))
            return
        if route.caller != "webhook" and not isinstance(payload, dict):
            self._send(HTTPStatus.BAD_REQUEST, refusal("invalid_data", "The body must be a JSON object."))
            return

        try:
            status, answer = route.handler(self.server.app, payload)
        except Exception:
            log.exception("%s failed", self.path)
            status, answer = 500, refusal("unavailable", "The backend failed; try again.")
        self._send(HTTPStatus(status), answer)

    def do_OPTIONS(self) -> None:
        """CORS preflight of the browser routes (a JSON POST from another origin)."""
        route = ROUTES.get(self.path)
        if route is None or route.caller != "browser" or not self._origin_allowed():
            self.send_response(HTTPStatus.FORBIDDEN)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors_headers()
        self.send_header("Access-Control-Allow-Methods", "POST")
        self.send_header("Access-Control-Allow-Headers", "content-type")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._send(HTTPStatus.OK, {"ok": True})
        else:
            self._send(HTTPStatus.NOT_FOUND, refusal("not_found", "No such route."))

    # -- helpers ---------------------------------------------------------------

    def _read_body(self, max_bytes: int) -> bytes | None:
        """The raw body, or None after answering a request without a usable one."""
        length = self.headers.get("Content-Length")
        if length is None or self.headers.get("Transfer-Encoding"):
            # Syncline always sends a Content-Length; chunked bodies are not read.
            self._send(HTTPStatus.LENGTH_REQUIRED, refusal("invalid_data", "Content-Length required."), close=True)
            return None
        if not length.isascii() or not length.isdigit():
            self._send(HTTPStatus.BAD_REQUEST, refusal("invalid_data", "Bad Content-Length."), close=True)
            return None
        if int(length) > max_bytes:
            # Refused unread; the connection is closed since the body is left on it.
            self._send(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                refusal("limit_exceeded", f"The body is larger than {max_bytes} bytes."),
                close=True,
            )
            return None
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            self.close_connection = True  # the client gave up mid-body
            return None
        return body

    def _signature_ok(self, caller: str, body: bytes) -> bool:
        settings = self.server.settings
        header = self.headers.get(signature.HEADER)
        if caller == "webhook":
            return signature.verify(settings.webhook_secret, header, body)
        if caller == "proxy" and settings.proxy_secret:
            return signature.verify(settings.proxy_secret, header, body)
        return True  # browser routes, or a proxy without a secret

    def _origin_allowed(self) -> bool:
        # No Origin header: not a browser's cross-origin request (curl, a test).
        origin = self.headers.get("Origin")
        return origin is None or origin in self.server.settings.allowed_origins

    def _cors_headers(self) -> None:
        origin = self.headers.get("Origin")
        if origin is not None and origin in self.server.settings.allowed_origins:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")

    def _send(self, status: HTTPStatus, answer: dict[str, Any], close: bool = False) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        route = ROUTES.get(self.path)
        if route is not None and route.caller == "browser":
            self._cors_headers()
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def settings_from_env() -> Settings:
    proxy_secret = os.environ.get("SYNCLINE_PROXY_SECRET", DEMO_PROXY_SECRET)
    webhook_secret = os.environ.get("SYNCLINE_WEBHOOK_SECRET", DEMO_WEBHOOK_SECRET)
    origins = os.environ.get("ALLOWED_ORIGINS", "http://127.0.0.1:8787,http://localhost:8787")
    if len(webhook_secret) < 16:
        sys.exit("SYNCLINE_WEBHOOK_SECRET must be at least 16 characters (as Syncline requires).")
    if proxy_secret == DEMO_PROXY_SECRET or webhook_secret == DEMO_WEBHOOK_SECRET:
        log.warning("using the demo secrets of syncline.config.json: set your own before deploying")
    if not proxy_secret:
        log.warning("SYNCLINE_PROXY_SECRET is empty: proxy requests are accepted unsigned")
    return Settings(
        proxy_secret=proxy_secret,
        webhook_secret=webhook_secret,
        allowed_origins=frozenset(o.strip() for o in origins.split(",") if o.strip()),
    )


def serve(args: argparse.Namespace) -> None:
    server = Server((args.host, args.port), App(store=Store(args.db)), settings_from_env())
    host, port = server.server_address[:2]
    # The tests and start.mjs wait for this line (with --port 0, it says which port).
    print(f"python backend listening on http://{host}:{port}", flush=True)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def add_user(args: argparse.Namespace) -> None:
    # The password from the terminal, or from the first line of stdin when piped.
    password = getpass.getpass(f"Password for {args.name}: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    store = Store(args.db)
    try:
        store.add_user(args.name, password)
    except ValueError as err:
        sys.exit(str(err))
    for room in args.member:
        store.add_member(room, args.name)
    print(f"user {args.name} saved" + (f", member of {', '.join(args.member)}" if args.member else ""))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    parser = argparse.ArgumentParser(description="A Syncline backend in Python (examples/python-backend).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--db", default=os.environ.get("BACKEND_DB", os.path.join(HERE, "data", "backend.sqlite3")))
    commands = parser.add_subparsers(dest="command")
    adding = commands.add_parser("add-user", help="add a user (or set their password)")
    adding.add_argument("name")
    adding.add_argument("--member", action="append", default=[], metavar="ROOM", help="e.g. private:staff")
    args = parser.parse_args()
    if args.command == "add-user":
        add_user(args)
    else:
        serve(args)


if __name__ == "__main__":
    main()
