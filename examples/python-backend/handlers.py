"""What the backend answers: Syncline's proxy requests, its webhooks, and the browser's login.

Each handler takes the app (`App`: the store and the settings) and the parsed
JSON body, and returns `(HTTP status, JSON answer)`. The HTTP plumbing
(limits, signatures, CORS) is in backend.py; nothing here touches sockets.

Proxy answers follow docs/proxy.md: HTTP 200 with a JSON object, and a
refusal is `{"error": {"code": …, "message": …}}`, which the client gets as
is. A non-2xx status would mean "the backend is broken" to Syncline, and the
client would get a retryable `unavailable` instead of our message.
"""

from dataclasses import dataclass
from typing import Any

from store import Store

Answer = tuple[int, dict[str, Any]]

# What a signed-in user may do, as the capabilities of a Syncline token
# (`match` is a glob over channel, document or RPC method names). They cover
# the chat example (examples/chat) and this backend's own channels.
USER_CAPS = [
    {"match": "lobby:*", "allow": ["read", "mutate"]},  # the chat's room list (a document)
    {"match": "room:*", "allow": ["read", "mutate"]},  # one document per room
    {"match": "online:*", "allow": ["subscribe", "presence"]},  # who is online
    {"match": "here:*", "allow": ["subscribe", "presence"]},  # who is in a room, typing
    {"match": "news:*", "allow": ["subscribe", "history"]},  # announcements, read-only
    # Private rooms: the subscribe proxy below decides who is a member. The
    # namespace only lets subscribers publish (`allowPublish`), and history
    # is not granted, so a member's subscribe is the only way in.
    {"match": "private:*", "allow": ["subscribe", "publish"]},
    {"match": "lastSeen", "allow": ["rpc"]},  # the RPC method below
]


@dataclass(frozen=True)
class App:
    store: Store
    session_ttl_s: int = 12 * 3600


def refusal(code: str, message: str) -> dict[str, Any]:
    """A refusal in the proxy's shape; `code` is one of the codes docs/proxy.md lists."""
    return {"error": {"code": code, "message": message}}


def _text(value: Any, max_length: int = 1024) -> str | None:
    """`value` if it is a non-empty string of at most `max_length` characters."""
    return value if isinstance(value, str) and 0 < len(value) <= max_length else None


# -- proxy: connect ------------------------------------------------------------


def connect(app: App, body: dict[str, Any]) -> Answer:
    """
    Who a connection without a token is. The client's `connectData` arrives as
    `body["data"]`, either

    - `{"session": "…"}`: a session from POST /login (browsers: the page never
      keeps the password), or
    - `{"user": "ada", "password": "…"}`: checked against the users table
      (scripts and bots; the password is checked again at every reconnect).
    """
    data = body.get("data")
    if not isinstance(data, dict):
        return 200, refusal("unauthorized", 'Sign in: connectData is { "session" } or { "user", "password" }.')

    if "session" in data:
        token = _text(data["session"])
        found = app.store.session(token) if token else None
        if found is None:
            return 200, refusal("unauthorized", "Your session has ended; sign in again.")
        user, expires_at = found
        # With expiresAt, Syncline closes the connection when the session
        # ends; the client reconnects through this proxy and is refused.
        return 200, {"user": user, "caps": USER_CAPS, "expiresAt": expires_at, "info": {"name": user}}

    user, password = _text(data.get("user"), 32), _text(data.get("password"))
    if user is None or password is None or not app.store.authenticate(user, password):
        # One message for an unknown user and a wrong password: it must not
        # tell which names exist.
        return 200, refusal("unauthorized", "Wrong user name or password.")
    return 200, {"user": user, "caps": USER_CAPS, "info": {"name": user}}


# -- proxy: subscribe ----------------------------------------------------------


def subscribe(app: App, body: dict[str, Any]) -> Answer:
    """
    Whether `body["user"]` may subscribe to `body["channel"]`. syncline.config.json
    sends only the `private:` namespace here (`proxy.namespaces.private`): a
    private channel is open to the members the room_members table lists.
    """
    channel, user = _text(body.get("channel")), _text(body.get("user"))
    if channel is None or user is None:
        return 200, refusal("forbidden", "Malformed subscribe request.")
    if channel.startswith("private:") and not app.store.is_member(channel, user):
        return 200, refusal("forbidden", f"{channel} is for its members only.")
    return 200, {}


# -- proxy: rpc ------------------------------------------------------------------


def rpc(app: App, body: dict[str, Any]) -> Answer:
    """
    RPC methods the Syncline config does not define. The caller's
    capabilities must allow `rpc` on the method name (USER_CAPS does for
    `lastSeen`) before Syncline asks us.
    """
    method, data = body.get("method"), body.get("data")
    if method == "lastSeen":
        # lastSeen({ user }) → { user, lastSeen: ISO time | null, channel: string | null }
        user = _text(data.get("user"), 200) if isinstance(data, dict) else None
        if user is None:
            return 200, refusal("invalid_args", 'lastSeen takes { "user": "…" }.')
        seen = app.store.last_seen(user)
        at, channel = seen if seen else (None, None)
        return 200, {"result": {"user": user, "lastSeen": at, "channel": channel}}
    return 200, refusal("not_found", f"No RPC method {str(method)[:100]}.")


# -- webhooks --------------------------------------------------------------------


def webhooks(app: App, body: Any) -> Answer:
    """
    One webhook request: an event `{id, type, time, data}` or an array of
    them (docs/webhooks.md). Any 2xx tells Syncline they are delivered; the
    events this receiver asked for in syncline.config.json are `presence.left`.
    """
    events = body if isinstance(body, list) else [body]
    for event in events:
        if not _valid_event(event):
            # 400: Syncline retries it, and the failure shows in its
            # deliveries list (GET /v1/webhooks/deliveries?status=failed).
            return 400, refusal("invalid_data", "Expected webhook events { id, type, time, data }.")
    new = app.store.record_events(events)
    return 200, {"received": len(events), "new": new}


def _valid_event(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    if not (_text(event.get("id"), 200) and _text(event.get("type"), 100) and _text(event.get("time"), 100)):
        return False
    data = event.get("data")
    if event["type"] == "presence.left":
        return isinstance(data, dict) and bool(_text(data.get("user"), 200)) and bool(_text(data.get("channel"), 300))
    return True


# -- browser: login and logout ---------------------------------------------------


def login(app: App, body: dict[str, Any]) -> Answer:
    """
    POST /login {"user", "password"} → 200 {"user", "session", "expiresAt"}, or
    401 {"error": {"code": "unauthorized", …}}. The page then connects with
    `connectData: { session }`.
    """
    user, password = _text(body.get("user"), 32), _text(body.get("password"))
    if user is None or password is None or not app.store.authenticate(user, password):
        return 401, refusal("unauthorized", "Wrong user name or password.")
    session, expires_at = app.store.create_session(user, app.session_ttl_s)
    return 200, {"user": user, "session": session, "expiresAt": expires_at}


def logout(app: App, body: dict[str, Any]) -> Answer:
    """POST /logout {"session"} → 200 {}: the session no longer connects (open connections end at their next reconnect)."""
    token = _text(body.get("session"))
    if token:
        app.store.delete_session(token)
    return 200, {}
