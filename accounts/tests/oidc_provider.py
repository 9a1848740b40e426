"""A small OpenID Connect provider on loopback for the single sign-on tests: authorization code flow
with PKCE (S256), an RS256-signed id_token, a JWKS and a userinfo endpoint. Real HTTP, real
signatures; only the person approving the sign-in is left out (the test says who signs in)."""

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "complaintdesk"
CLIENT_SECRET = "s3cret-of-the-client"
KID = "test-key-1"


class Provider:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signing_key = self.key  # a test may sign with another key (a forged token)
        self.claims: dict[str, Any] = {}  # who signs in: preferred_username, email, …
        self.amr: list[str] = ["pwd"]
        self.audience: str = CLIENT_ID
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "Provider":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def settings(self) -> dict[str, Any]:
        return {
            "COMPLAINTDESK_OIDC": True,
            "COMPLAINTDESK_OIDC_ISSUER": self.issuer,
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_RP_SIGN_ALGO": "RS256",
            "OIDC_OP_AUTHORIZATION_ENDPOINT": self.issuer + "/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": self.issuer + "/token",
            "OIDC_OP_USER_ENDPOINT": self.issuer + "/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": self.issuer + "/jwks",
        }

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "sub": grant["claims"].get("preferred_username", "someone"),
            "aud": self.audience,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "amr": self.amr,
        }
        return jwt.encode(payload, self.signing_key, algorithm="RS256", headers={"kid": KID})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/authorize":
                    if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                        return self._json(400, {"error": "invalid_request"})
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {
                        "nonce": query.get("nonce"),
                        "redirect_uri": query["redirect_uri"],
                        "challenge": query.get("code_challenge"),
                        "claims": dict(provider.claims),
                    }
                    self.send_response(302)
                    location = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
                    self.send_header("Location", location)
                    self.end_headers()
                elif url.path == "/jwks":
                    jwk = RSAAlgorithm.to_jwk(provider.key.public_key(), as_dict=True)
                    self._json(200, {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]})
                elif url.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    grant = provider.access_tokens.get(token)
                    if grant is None:
                        return self._json(401, {"error": "invalid_token"})
                    self._json(200, {"sub": grant["claims"].get("preferred_username"), **grant["claims"]})
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                if urlparse(self.path).path != "/token":
                    return self._json(404, {"error": "not_found"})
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                    return self._json(401, {"error": "invalid_client"})
                grant = provider.codes.pop(form.get("code", ""), None)
                if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                    return self._json(400, {"error": "invalid_grant"})
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if grant["challenge"] and challenge != grant["challenge"]:
                    return self._json(400, {"error": "invalid_grant", "error_description": "PKCE"})
                access = secrets.token_urlsafe(16)
                provider.access_tokens[access] = grant
                self._json(200, {"access_token": access, "token_type": "Bearer", "id_token": provider.id_token(grant)})

        return Handler
