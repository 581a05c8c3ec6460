"""Syncline-Signature: the header Syncline signs webhooks and proxy requests with.

    Syncline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

The same format protects both directions Syncline talks to this backend: the
proxy requests (with `proxy.secret`) and the webhook deliveries (with the
webhook entry's `secret`). Always check it on the raw bytes of the body,
before parsing them: re-serialised JSON would not hash the same.
"""

import hashlib
import hmac
import re
import time

HEADER = "Syncline-Signature"

# How far the timestamp may be from our clock, in seconds. A captured request
# replayed later than this is refused; Syncline signs every attempt afresh, so
# retries of a webhook are never affected.
TOLERANCE_S = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`, as Syncline computes it (used by the tests)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, header: str | None, body: bytes, tolerance_s: int = TOLERANCE_S, now: float | None = None) -> bool:
    """True when `header` is a valid signature of `body` with `secret`, made within `tolerance_s` of now."""
    if not header:
        return False
    # "t=1700000000,v1=ab12…": split on commas, then on the first "=".
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    t, signature = parts.get("t", ""), parts.get("v1", "")
    # ASCII digits only ("²".isdigit() is True in Python, and int() refuses it).
    if not _TIMESTAMP.fullmatch(t) or not signature:
        return False
    current = time.time() if now is None else now
    if abs(current - int(t)) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    # Constant time: how many leading characters match must not show in the timing.
    # Compared as bytes: compare_digest raises on str with non-ASCII characters.
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


_TIMESTAMP = re.compile(r"[0-9]{1,12}")
