"""Unit tests of the backend's parts: python3 -m unittest discover -s examples/python-backend

The whole backend, behind a real Syncline server, is tested by
test/examples-python-backend.test.ts (npm test).
"""

import os
import tempfile
import time
import unittest

import handlers
import signature
from handlers import App
from store import Store, check_password, hash_password

SECRET = "unit-test-secret-0123456789"


class SignatureTest(unittest.TestCase):
    def test_accepts_what_syncline_signs(self):
        body = b'{"id":"evt_1"}'
        self.assertTrue(signature.verify(SECRET, signature.sign(SECRET, body), body))

    def test_refuses_a_tampered_body_another_secret_or_a_stale_timestamp(self):
        body = b'{"id":"evt_1"}'
        header = signature.sign(SECRET, body)
        self.assertFalse(signature.verify(SECRET, header, b'{"id":"evt_2"}'))
        self.assertFalse(signature.verify("another-secret-0123456789", header, body))
        old = signature.sign(SECRET, body, int(time.time()) - signature.TOLERANCE_S - 10)
        self.assertFalse(signature.verify(SECRET, old, body))

    def test_refuses_malformed_headers_without_raising(self):
        body = b"{}"
        t = int(time.time())
        for header in [None, "", "garbage", f"t={t}", "v1=abc", f"t=²,v1=ab", f"t={t},v1=é", f"t={'9' * 5000},v1=ab"]:
            with self.subTest(header=header):
                self.assertFalse(signature.verify(SECRET, header, body))


class PasswordTest(unittest.TestCase):
    def test_salted_hashes_check_only_the_right_password(self):
        a, b = hash_password("lovelace", iterations=1000), hash_password("lovelace", iterations=1000)
        self.assertNotEqual(a, b)  # per-user salt
        self.assertTrue(check_password("lovelace", a))
        self.assertFalse(check_password("Lovelace", a))
        self.assertFalse(check_password("lovelace", "not-a-hash"))


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.store = Store(os.path.join(self.dir.name, "db.sqlite3"), seed=False)
        self.app = App(store=self.store)

    def tearDown(self):
        self.dir.cleanup()

    def event(self, id, user, at, type="presence.left"):
        return {"id": id, "type": type, "time": at, "data": {"channel": "online:everyone", "user": user, "clientId": "c"}}

    def test_webhook_events_are_deduplicated_and_last_seen_only_moves_forward(self):
        batch = [
            self.event("evt_1", "ada", "2026-01-01T10:00:00.000Z"),
            self.event("evt_2", "ada", "2026-01-01T09:00:00.000Z"),  # older: ignored
            self.event("evt_1", "ada", "2026-01-01T10:00:00.000Z"),  # the same event twice in a batch
            self.event("evt_3", "grace", "2026-01-01T08:00:00.000Z", type="presence.joined"),
        ]
        self.assertEqual(handlers.webhooks(self.app, batch), (200, {"received": 4, "new": 3}))
        self.assertEqual(handlers.webhooks(self.app, batch[0]), (200, {"received": 1, "new": 0}))
        self.assertEqual(self.store.last_seen("ada"), ("2026-01-01T10:00:00.000Z", "online:everyone"))
        self.assertIsNone(self.store.last_seen("grace"))

    def test_a_malformed_batch_is_refused_whole(self):
        status, _ = handlers.webhooks(self.app, [self.event("evt_1", "ada", "2026-01-01T10:00:00.000Z"), {"id": 1}])
        self.assertEqual(status, 400)
        self.assertIsNone(self.store.last_seen("ada"))

    def test_connect_by_password_or_session(self):
        self.store.add_user("ada", "lovelace")
        status, answer = handlers.connect(self.app, {"data": {"user": "ada", "password": "lovelace"}})
        self.assertEqual((status, answer["user"]), (200, "ada"))
        for data in [{"user": "ada", "password": "nope"}, {"user": "bob", "password": "lovelace"}, None, "x"]:
            with self.subTest(data=data):
                self.assertEqual(handlers.connect(self.app, {"data": data})[1]["error"]["code"], "unauthorized")

        status, login = handlers.login(self.app, {"user": "ada", "password": "lovelace"})
        self.assertEqual(status, 200)
        answer = handlers.connect(self.app, {"data": {"session": login["session"]}})[1]
        self.assertEqual((answer["user"], answer["expiresAt"]), ("ada", login["expiresAt"]))
        handlers.logout(self.app, {"session": login["session"]})
        answer = handlers.connect(self.app, {"data": {"session": login["session"]}})[1]
        self.assertEqual(answer["error"]["code"], "unauthorized")
        self.assertEqual(handlers.login(self.app, {"user": "ada", "password": "nope"})[0], 401)

    def test_private_channels_are_for_members(self):
        self.store.add_user("ada", "lovelace")
        self.store.add_member("private:staff", "ada")
        self.assertEqual(handlers.subscribe(self.app, {"user": "ada", "channel": "private:staff"}), (200, {}))
        answer = handlers.subscribe(self.app, {"user": "grace", "channel": "private:staff"})[1]
        self.assertEqual(answer["error"]["code"], "forbidden")


if __name__ == "__main__":
    unittest.main()
