"""A stand-in for Vault's transit engine, served over real HTTP on loopback.

It encrypts for real (AES-256-GCM, a random 96-bit nonce, the associated data
authenticated) and keeps what the plugin relies on: ciphertexts ``vault:v<N>:<base64>``,
key versions that rotation adds and old ones that still decrypt, 400 with Vault's
``errors`` when a ciphertext or its associated data do not authenticate, 403 for a wrong
token, 404 for an unknown key, and 503 while :attr:`FakeVault.sealed`.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets

import uvicorn
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hybrid_calendar.threaded_server import ThreadedServer, bind

CIPHERTEXT = re.compile(r"^vault:v(\d+):(.+)$")


class FakeVault:
    """One transit mount (``transit``) with named keys; :meth:`start` serves it."""

    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(16)
        self.keys: dict[str, list[bytes]] = {}
        self.sealed = False
        self.app = Starlette(routes=[
            Route("/v1/transit/encrypt/{name}", self.encrypt, methods=["POST"]),
            Route("/v1/transit/decrypt/{name}", self.decrypt, methods=["POST"]),
            Route("/v1/transit/keys/{name}/rotate", self.rotate, methods=["POST"]),
            Route("/v1/transit/keys/{name}", self.read_key, methods=["GET"])])
        self.server: ThreadedServer | None = None

    @property
    def address(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self.server is not None, "start() first"
        return self.server.base_url

    def start(self) -> None:
        """Serve on a free loopback port until :meth:`stop`."""
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self.server = ThreadedServer(bind(), uvicorn.Server(config), name="fake-vault")
        self.server.start()

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.stop()

    def create_key(self, name: str) -> None:
        """``vault write -f transit/keys/<name>``: version 1."""
        self.keys[name] = [AESGCM.generate_key(bit_length=256)]

    def _refusal(self, request: Request) -> Response | None:
        if self.sealed:
            return _errors(503, "Vault is sealed")
        if request.headers.get("X-Vault-Token") != self.token:
            return _errors(403, "permission denied")
        if request.path_params["name"] not in self.keys:
            return _errors(404, "encryption key not found")  # what decrypt says; enough here
        return None

    async def encrypt(self, request: Request) -> Response:
        """``POST transit/encrypt/<name>``."""
        refusal = self._refusal(request)
        if refusal:
            return refusal
        body = await request.json()
        versions = self.keys[request.path_params["name"]]
        try:
            plaintext = base64.b64decode(body["plaintext"], validate=True)
            associated = base64.b64decode(body.get("associated_data", ""), validate=True)
        except (KeyError, binascii.Error):
            return _errors(400, "failed to base64-decode plaintext")
        nonce = os.urandom(12)
        sealed = AESGCM(versions[-1]).encrypt(nonce, plaintext, associated or None)
        ciphertext = f"vault:v{len(versions)}:" + base64.b64encode(nonce + sealed).decode()
        return JSONResponse({"data": {"ciphertext": ciphertext,
                                      "key_version": len(versions)}})

    async def decrypt(self, request: Request) -> Response:
        """``POST transit/decrypt/<name>``."""
        refusal = self._refusal(request)
        if refusal:
            return refusal
        body = await request.json()
        versions = self.keys[request.path_params["name"]]
        match = CIPHERTEXT.match(str(body.get("ciphertext", "")))
        if match is None:
            return _errors(400, "invalid ciphertext: no prefix")
        version = int(match.group(1))
        if not 1 <= version <= len(versions):
            return _errors(400, "invalid key version")
        try:
            raw = base64.b64decode(match.group(2), validate=True)
            associated = base64.b64decode(body.get("associated_data", ""), validate=True)
            plaintext = AESGCM(versions[version - 1]).decrypt(raw[:12], raw[12:],
                                                              associated or None)
        except (binascii.Error, InvalidTag, ValueError):
            return _errors(400, "cipher: message authentication failed")
        return JSONResponse({"data": {"plaintext": base64.b64encode(plaintext).decode()}})

    async def rotate(self, request: Request) -> Response:
        """``POST transit/keys/<name>/rotate``."""
        refusal = self._refusal(request)
        if refusal:
            return refusal
        self.keys[request.path_params["name"]].append(AESGCM.generate_key(bit_length=256))
        return Response(status_code=204)

    async def read_key(self, request: Request) -> Response:
        """``GET transit/keys/<name>``."""
        refusal = self._refusal(request)
        if refusal:
            return refusal
        versions = self.keys[request.path_params["name"]]
        return JSONResponse({"data": {
            "name": request.path_params["name"], "type": "aes256-gcm96",
            "latest_version": len(versions), "min_decryption_version": 1,
            "keys": {str(n): 0 for n in range(1, len(versions) + 1)}}})


def _errors(status: int, message: str) -> JSONResponse:
    """Vault's error body."""
    return JSONResponse({"errors": [message]}, status_code=status)
