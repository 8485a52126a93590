"""AES-256-GCM payload encryption, so citizens' personal data never reaches Temporal's store in the clear.

Every payload (workflow and activity inputs and results, signals, updates, queries, and, through the
encoded-attributes failure converter, failure messages and stack traces) is serialized by the pydantic
converter and then sealed here. The Temporal server, its database, the Web UI without a codec endpoint and
exported histories see only ciphertext plus two metadata entries: the encoding ``binary/encrypted`` and the
id of the key that sealed it, so keys can rotate while old histories stay readable.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from runtime.keys import KeyRing

ENCODING = b"binary/encrypted"
"""The ``encoding`` metadata of a sealed payload."""
KEY_ID_METADATA = "encryption-key-id"
"""Metadata entry naming the key that sealed a payload."""
NONCE_BYTES = 12
_AAD_PREFIX = b"missed-meeting/payload/v1:"


class PayloadDecryptionError(Exception):
    """A sealed payload cannot be opened. Names the key id, never the payload's content."""


class UnknownKeyError(PayloadDecryptionError):
    """The payload was sealed with a key this process does not have (add it back to the key ring)."""


class TamperedPayloadError(PayloadDecryptionError):
    """The ciphertext, its nonce or its key id was altered, or the key with that id is not the one used."""


def _aad(key_id: str) -> bytes:
    """Bind the key id into the authentication tag, so relabelling a payload's key id is detected."""
    return _AAD_PREFIX + key_id.encode("ascii")


class EncryptionCodec(PayloadCodec):
    """Seal each payload whole (metadata and data) with the current key; open with any known key by id."""

    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    @property
    def keys(self) -> KeyRing:
        return self._keys

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        key_id = self._keys.current_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), _aad(key_id))
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode("ascii")},
            data=nonce + sealed,
        )

    def open(self, payload: Payload) -> Payload:
        """Open a sealed payload; a payload that was never sealed passes through unchanged."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_id is None:
            raise TamperedPayloadError(f"encrypted payload has no {KEY_ID_METADATA!r} metadata")
        key_id = raw_id.decode("ascii", errors="replace")[:70]
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(
                f"payload was encrypted with unknown key id {key_id!r}; "
                f"known key ids: {', '.join(self._keys.ids)}"
            )
        if len(payload.data) < NONCE_BYTES + 16:
            raise TamperedPayloadError(f"encrypted payload with key id {key_id!r} is truncated")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, _aad(key_id))
        except InvalidTag:
            raise TamperedPayloadError(
                f"encrypted payload with key id {key_id!r} failed authentication: "
                "it was altered, or that key id holds a different key than the one that encrypted it"
            ) from None
        opened = Payload()
        opened.ParseFromString(plain)
        return opened


def data_converter(keys: KeyRing) -> DataConverter:
    """The pydantic converter, with payloads encrypted and failure messages and stack traces encoded too."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
