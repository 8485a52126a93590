"""Connecting to Temporal the same way everywhere: one data converter, the search attributes we need."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from runtime import codec
from runtime.keys import KeyRing, load_keys
from workflows import search_attributes as sa


def data_converter(keys: KeyRing | None = None) -> DataConverter:
    """The pydantic converter with every payload encrypted (runtime.codec).

    Without ``keys``, the configured ring is loaded (MISSED_MEETING_PAYLOAD_KEYS, else the key file under
    MISSED_MEETING_DATA_DIR); a missing or malformed key raises runtime.keys.KeyConfigError here, at start.
    """
    return codec.data_converter(keys if keys is not None else load_keys())


async def connect(
    address: str, namespace: str, keys: KeyRing | None = None, *, runtime: Runtime | None = None, lazy: bool = False
) -> Client:
    """A client with our data converter. ``runtime``: the worker's (metrics); ``lazy``: connect on first use,
    for a service that must start, and say it is unhealthy, while Temporal is still down."""
    return await Client.connect(address, namespace=namespace, data_converter=data_converter(keys), runtime=runtime,
                                lazy=lazy)


async def ensure_search_attributes(client: Client) -> list[str]:
    """Register the custom search attributes the case workflow upserts, if the server lacks them."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        existing = set(listed.custom_attributes)
    except RPCError as exc:
        if exc.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server cannot list
            raise
        existing = set()
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in sa.ALL
        if key.name not in existing
    }
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
            )
        except RPCError as exc:
            # another worker replica (or the compose set-up job) registered them first; the test server,
            # which cannot list, says so too
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise
            return []
    return sorted(missing)
