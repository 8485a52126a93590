"""TEST-ONLY payload key for the golden histories. Never configure it in production.

The golden histories are committed to git, so the key that encrypts their payloads is committed too: it is
public, protects nothing, and exists only so CI can decrypt and replay the histories. The citizens in them are
invented (examples/scenarios.jsonl, tests/histories/scenarios.jsonl).

`python -m tests.histories.keys` prints the key spec, for `MISSED_MEETING_PAYLOAD_KEYS` (scripts/record-histories
uses it; so can `starter.py replay tests/histories/`).
"""

from __future__ import annotations

from runtime.keys import KeyRing

TEST_ONLY_KEY_ID = "test-only-golden-histories"
TEST_ONLY_KEY_SPEC = f"{TEST_ONLY_KEY_ID}:/1rFSOSfNZIUJjHJdp2uBjacJ/0c/wFn3N0GbgcWOgM="


def golden_keys() -> KeyRing:
    """The public, test-only key ring the golden histories are encrypted with."""
    return KeyRing.parse(TEST_ONLY_KEY_SPEC, source="tests/histories/keys.py (test only)")


if __name__ == "__main__":
    print(TEST_ONLY_KEY_SPEC)
