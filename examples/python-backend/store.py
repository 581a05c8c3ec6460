"""The backend's own data, in SQLite: users, sessions, private rooms, last seen.

Every method opens a short-lived connection, so the store can be shared by the
threads of the HTTP server (sqlite3 connections must stay in their thread).
WAL mode lets readers run while a webhook batch is being written.
"""

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
  name          TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,     -- "pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>"
  created_at    INTEGER NOT NULL   -- unix seconds
);
-- Sessions issued by POST /login. Only a hash of each token is kept, so a
-- copy of the database holds no session anyone could use.
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL      -- ms since the epoch, as Syncline's `expiresAt`
);
-- Who may subscribe to which private channel ("private:staff").
CREATE TABLE IF NOT EXISTS room_members (
  room TEXT NOT NULL,
  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  PRIMARY KEY (room, user)
);
-- Fed by `presence.left` webhooks: when each user was last seen, and where.
CREATE TABLE IF NOT EXISTS last_seen (
  user    TEXT PRIMARY KEY,
  at      TEXT NOT NULL,           -- the event's `time` (ISO 8601, UTC: sorts as text)
  channel TEXT NOT NULL
);
-- Ids of the webhook events already handled: delivery is at least once, so
-- the same event may arrive again (a retry after a lost answer, a restart).
CREATE TABLE IF NOT EXISTS webhook_events (
  id          TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL     -- unix seconds, for pruning
);
CREATE INDEX IF NOT EXISTS webhook_events_received ON webhook_events(received_at);
"""

# Demo data written when the database is created. The passwords are in the
# README: this is an example, not a deployment.
DEMO_USERS = {"ada": "lovelace", "grace": "hopper"}
DEMO_MEMBERS = [("private:staff", "ada")]

# User names: 1–32 letters, digits, spaces, "_", "." or "-" (the chat's own rule).
USER_NAME = re.compile(r"[\w .-]{1,32}")

# PBKDF2-HMAC-SHA256 with 600,000 iterations (OWASP's 2023 advice). The count
# is stored with each hash, so it can be raised later without a migration.
PBKDF2_ITERATIONS = 600_000

# Password hashing is deliberately slow (~0.2 s of CPU): at most this many run
# at once, so a flood of logins costs a few cores, not all of them.
_HASHING = threading.BoundedSemaphore(4)

# How long webhook event ids are remembered. Syncline retries an event for
# `retryForMs` (24 h by default) and keeps failed ones 7 days for manual retry.
EVENT_ID_RETENTION_S = 8 * 24 * 3600


def hash_password(password: str, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A salted hash of `password`, in the format stored in `users.password_hash`."""
    salt = os.urandom(16)  # per user: equal passwords get different hashes
    with _HASHING:
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """True when `password` matches a hash made by `hash_password`."""
    try:
        scheme, iterations, salt, expected = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        with _HASHING:
            digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


# Checked against when the user does not exist, so that "no such user" takes
# as long as "wrong password" and the timing does not tell which names exist.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(16))
    return _DUMMY_HASH


def _session_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    """The backend's SQLite database at `path` (created, and seeded with the demo data, on first use)."""

    def __init__(self, path: str, seed: bool = True) -> None:
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            empty = db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
        if seed and empty:
            for name, password in DEMO_USERS.items():
                self.add_user(name, password)
            for room, user in DEMO_MEMBERS:
                self.add_member(room, user)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection whose statements form one transaction: committed on success, rolled back on an error."""
        db = sqlite3.connect(self.path, timeout=5)
        try:
            db.execute("PRAGMA foreign_keys=ON")
            with db:
                yield db
        finally:
            db.close()

    # -- users ---------------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Adds a user, or sets the password of an existing one."""
        if not USER_NAME.fullmatch(name):
            raise ValueError('a user name is 1–32 letters, digits, spaces, "_", "." or "-"')
        if len(password) < 6:
            raise ValueError("a password is at least 6 characters")
        password_hash = hash_password(password)
        with self._db() as db:
            db.execute(
                "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash",
                (name, password_hash, int(time.time())),
            )

    def add_member(self, room: str, user: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO room_members (room, user) VALUES (?, ?)", (room, user))

    def authenticate(self, name: str, password: str) -> bool:
        """True when `name` exists and `password` is theirs; as slow either way."""
        with self._db() as db:
            row = db.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            check_password(password, _dummy_hash())
            return False
        return check_password(password, row[0])

    # -- sessions ------------------------------------------------------------

    def create_session(self, user: str, ttl_s: int) -> tuple[str, int]:
        """A new session token for `user` and its expiry (ms since the epoch)."""
        token = secrets.token_urlsafe(32)
        expires_at = int((time.time() + ttl_s) * 1000)
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE expires_at <= ?", (int(time.time() * 1000),))
            db.execute(
                "INSERT INTO sessions (token_hash, user, expires_at) VALUES (?, ?, ?)",
                (_session_hash(token), user, expires_at),
            )
        return token, expires_at

    def session(self, token: str) -> tuple[str, int] | None:
        """The user and expiry of a live session, or None (unknown, expired or signed out)."""
        with self._db() as db:
            row = db.execute(
                "SELECT user, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?",
                (_session_hash(token), int(time.time() * 1000)),
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def delete_session(self, token: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (_session_hash(token),))

    # -- private rooms -------------------------------------------------------

    def is_member(self, room: str, user: str) -> bool:
        with self._db() as db:
            row = db.execute("SELECT 1 FROM room_members WHERE room = ? AND user = ?", (room, user)).fetchone()
        return row is not None

    # -- webhook events and last seen ----------------------------------------

    def record_events(self, events: Iterable[dict]) -> int:
        """
        Handles a webhook batch in one transaction; returns how many events
        were new. An event id seen before is skipped, so a redelivery changes
        nothing. If anything fails, nothing is kept and the error answers the
        request with a 5xx: Syncline then sends the whole batch again.
        """
        now = int(time.time())
        new = 0
        with self._db() as db:
            db.execute("DELETE FROM webhook_events WHERE received_at < ?", (now - EVENT_ID_RETENTION_S,))
            for event in events:
                inserted = db.execute(
                    "INSERT OR IGNORE INTO webhook_events (id, received_at) VALUES (?, ?)", (event["id"], now)
                )
                if inserted.rowcount == 0:
                    continue  # a duplicate: already handled
                new += 1
                if event["type"] == "presence.left":
                    data = event["data"]
                    # Keep the latest time: events of different channels are
                    # not ordered with each other.
                    db.execute(
                        "INSERT INTO last_seen (user, at, channel) VALUES (?, ?, ?)"
                        " ON CONFLICT(user) DO UPDATE SET at = excluded.at, channel = excluded.channel"
                        " WHERE excluded.at > last_seen.at",
                        (data["user"], event["time"], data["channel"]),
                    )
        return new

    def last_seen(self, user: str) -> tuple[str, str] | None:
        """When and in which channel `user` was last seen leaving, or None."""
        with self._db() as db:
            row = db.execute("SELECT at, channel FROM last_seen WHERE user = ?", (user,)).fetchone()
        return None if row is None else (row[0], row[1])
