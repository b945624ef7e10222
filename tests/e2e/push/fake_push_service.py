"""A FAKE push service and browser for the end-to-end tests, nothing more.

It stands where Chrome's or Firefox's push service would, and plays the
browsers subscribed to it, written apart from the app's own Rust with
Python's `cryptography`:

- GET /subscribe/NAME makes a browser NAME: a P-256 key pair and a 16-byte
  auth secret, answered as PushSubscription.toJSON() gives them.
- POST /push/NAME is a push. It checks what RFC 8030 and RFC 8292 ask of
  the application server (Content-Encoding aes128gcm, a TTL, the VAPID
  token's ES256 signature by the app's key, its audience, its expiry) and
  decrypts the body as the browser would (RFC 8291, RFC 8188). It answers
  as NAME says: "gone-*" 410, "missing-*" 404, "flaky-*" 500 the first
  time and 201 after, anything else 201.
- GET /received lists every push: the browser, the answer given, the
  plaintext, any problem found, and when it arrived (seconds since 1970).

  python fake_push_service.py PORT VAPID_PUBLIC_KEY
"""

import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PORT, VAPID_PUBLIC = int(sys.argv[1]), sys.argv[2]
ORIGIN = f"http://127.0.0.1:{PORT}"
BROWSERS, RECEIVED, TRIED = {}, [], {}
LOCK = threading.Lock()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def point(key):
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def hkdf(salt, ikm, info, length):
    return HKDF(hashes.SHA256(), length, salt, info).derive(ikm)


def check_vapid(header):
    """What is wrong with the Authorization header, or None."""
    if not header.startswith("vapid "):
        return "not the vapid scheme"
    fields = dict(part.strip().split("=", 1) for part in header[6:].split(","))
    token, key = fields.get("t"), fields.get("k")
    if key != VAPID_PUBLIC:
        return f"k is not the app's key: {key}"
    head, claims, signature = token.split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
    raw = unb64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "the signature does not verify"
    if json.loads(unb64(head)).get("alg") != "ES256":
        return "not ES256"
    claims = json.loads(unb64(claims))
    if claims.get("aud") != ORIGIN:
        return f"aud is {claims.get('aud')}, not {ORIGIN}"
    if not time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600:
        return f"exp {claims.get('exp')} is past or more than a day ahead"
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        return "sub is not a mailto: or https: contact"
    return None


def decrypt(browser, body):
    """The plaintext of an aes128gcm body, as the browser reads it."""
    salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    sender = body[21:21 + id_length]
    if record_size < 18 or len(body) - 21 - id_length > record_size:
        raise ValueError("the body is not one record")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender)
    shared = browser["key"].exchange(ec.ECDH(), public)
    ikm = hkdf(browser["auth"], shared, b"WebPush: info\0" + point(browser["key"]) + sender, 32)
    cek = hkdf(salt, ikm, b"Content-Encoding: aes128gcm\0", 16)
    nonce = hkdf(salt, ikm, b"Content-Encoding: nonce\0", 12)
    record = AESGCM(cek).decrypt(nonce, body[21 + id_length:], None).rstrip(b"\0")
    if not record.endswith(b"\x02"):
        raise ValueError("not the last record")
    return record[:-1]


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, value=None):
        body = json.dumps(value).encode() if value is not None else b""
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/subscribe/"):
            name = self.path.split("/")[2]
            key, auth = ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
            with LOCK:
                BROWSERS[name] = {"key": key, "auth": auth}
            self.answer(200, {"endpoint": f"{ORIGIN}/push/{name}", "expirationTime": None,
                              "keys": {"p256dh": b64(point(key)), "auth": b64(auth)}})
        elif self.path == "/received":
            with LOCK:
                self.answer(200, RECEIVED)
        else:
            self.answer(404)

    def do_POST(self):
        arrived = time.time()
        name = self.path.split("/")[2] if self.path.startswith("/push/") else ""
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        problems = []
        if self.headers.get("content-encoding") != "aes128gcm":
            problems.append("Content-Encoding is not aes128gcm")
        if not (self.headers.get("ttl") or "").isdigit():
            problems.append("no TTL")
        if self.headers.get("urgency") not in ("very-low", "low", "normal", "high"):
            problems.append("no Urgency")
        problem = check_vapid(self.headers.get("authorization", ""))
        if problem:
            problems.append(problem)
        plaintext = None
        with LOCK:
            browser = BROWSERS.get(name)
            TRIED[name] = TRIED.get(name, 0) + 1
            tries = TRIED[name]
        try:
            plaintext = json.loads(decrypt(browser, body)) if browser else None
        except Exception as error:  # a body the browser cannot read
            problems.append(f"cannot decrypt: {error!r}")
        status = 401 if problems else (
            410 if name.startswith("gone") else
            404 if name.startswith("missing") or browser is None else
            500 if name.startswith("flaky") and tries == 1 else 201)
        with LOCK:
            RECEIVED.append({"browser": name, "status": status, "message": plaintext, "problems": problems,
                             "at": arrived})
        self.answer(status)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
