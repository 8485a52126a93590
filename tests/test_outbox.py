"""The SQLite outbox: one row per idempotency key, readable by a person, safe from many threads."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from activities import outbox as ob
from activities.outbox import Outbox, OutboxItem

CREATED = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)


def item(key: str = "wf-M-1/hearing_letter/citizen/digital_post", **changes: Any) -> OutboxItem:
    data: dict[str, Any] = {
        "idempotency_key": key,
        "message_id": f"msg-{key}",
        "workflow_id": "wf-M-1",
        "meeting_id": "M-1",
        "case_id": "K-1",
        "kind": "hearing_letter",
        "channel": "digital_post",
        "recipient": "citizen",
        "created_at": CREATED,
        "subject": "Partshøring: Du mødte ikke op til din jobsamtale",
        "body_text": "Kære borger\nSvar senest onsdag den 11. marts 2026.",
        "release_on": date(2026, 3, 3),
        "memo_xml": "<memo:Message/>",
        "payload": {"deadline": "2026-03-11", "to": "citizen"},
    }
    data.update(changes)
    return OutboxItem(**data)


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "nested" / "dir" / "outbox.sqlite")


def test_creates_parent_dir_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "outbox.sqlite"
    Outbox(path)
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"outbox", "inbound_contacts"} <= tables


def test_put_stores_everything_a_person_needs_to_read(outbox: Outbox) -> None:
    result = outbox.put(item())
    assert not result.duplicate
    rec = result.record
    assert rec.id == 1 and rec.status == "stored"
    assert rec.subject.startswith("Partshøring")
    assert rec.body_text.endswith("11. marts 2026.")
    assert rec.memo_xml == "<memo:Message/>"
    assert rec.payload == {"deadline": "2026-03-11", "to": "citizen"}
    assert rec.release_on == date(2026, 3, 3)
    assert rec.created_at == CREATED
    assert rec.stored_at.tzinfo is not None
    assert outbox.get(rec.idempotency_key) == rec


def test_a_repeated_key_returns_the_first_row_and_stores_nothing(outbox: Outbox) -> None:
    first = outbox.put(item())
    again = outbox.put(item(body_text="a different text", message_id="other"))
    assert again.duplicate
    assert again.record == first.record
    assert again.record.body_text == first.record.body_text
    assert outbox.count() == 1


def test_items_filters_and_orders(outbox: Outbox) -> None:
    outbox.put(item("k1"))
    outbox.put(item("k2", kind="sms", channel="nemsms", memo_xml=None))
    outbox.put(item("k3", meeting_id="M-2"))
    assert [r.idempotency_key for r in outbox.items()] == ["k1", "k2", "k3"]
    assert [r.idempotency_key for r in outbox.items(meeting_id="M-1")] == ["k1", "k2"]
    assert [r.idempotency_key for r in outbox.items(kind="sms")] == ["k2"]
    assert outbox.count(channel="digital_post") == 2
    assert len(outbox.items(limit=1)) == 1


def test_show_prints_exactly_what_was_sent(outbox: Outbox) -> None:
    rec = outbox.put(item()).record
    shown = ob.show(rec)
    assert "hearing_letter via digital_post to citizen" in shown
    assert "Subject: Partshøring: Du mødte ikke op til din jobsamtale" in shown
    assert rec.body_text in shown
    assert "<memo:Message/>" in shown


def test_cli_list_and_show(outbox: Outbox, capsys: pytest.CaptureFixture[str]) -> None:
    outbox.put(item("k1"))
    assert ob.main(["list", str(outbox.path)]) == 0
    assert "hearing_letter" in capsys.readouterr().out
    assert ob.main(["show", str(outbox.path), "k1"]) == 0
    assert "Svar senest onsdag" in capsys.readouterr().out
    assert ob.main(["show", str(outbox.path), "1"]) == 0
    assert "k1" in capsys.readouterr().out
    assert ob.main(["show", str(outbox.path), "missing"]) == 1
    assert ob.main([]) == 2


def test_set_status(outbox: Outbox) -> None:
    outbox.put(item("k1"), status="pending")
    outbox.set_status("k1", "sent", external_id="tx-1")
    rec = outbox.get("k1")
    assert rec is not None and rec.status == "sent" and rec.external_id == "tx-1"
    with pytest.raises(KeyError):
        outbox.set_status("nope", "failed")


def test_naive_times_are_refused(outbox: Outbox) -> None:
    with pytest.raises(ValueError):
        outbox.put(item(created_at=datetime(2026, 3, 3, 8, 0)))


def test_concurrent_puts_of_one_key_store_one_row(outbox: Outbox) -> None:
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker() -> None:
        start.wait()
        res = outbox.put(item("same"))
        with lock:
            results.append(res.duplicate)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] + [True] * 15
    assert outbox.count() == 1


def test_concurrent_puts_of_many_keys(outbox: Outbox) -> None:
    threads = [threading.Thread(target=outbox.put, args=(item(f"k{i}"),)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outbox.count() == 40


def test_inbound_contacts_since(outbox: Outbox) -> None:
    cet = timezone(timedelta(hours=1))
    since = datetime(2026, 3, 12, 0, 0, tzinfo=cet)
    outbox.record_inbound(
        "M-1", datetime(2026, 3, 11, 23, 30, tzinfo=cet), "phone", "before the deadline ended"
    )
    outbox.record_inbound("M-2", datetime(2026, 3, 13, 9, 0, tzinfo=cet), "phone")
    assert outbox.inbound_since("M-1", since) == []
    # recorded in UTC, asked in local time: 23:15 UTC on the 11th is 00:15 on the 12th in Copenhagen
    outbox.record_inbound("M-1", datetime(2026, 3, 11, 23, 15, tzinfo=UTC), "in_person", "came by")
    outbox.record_inbound("M-1", datetime(2026, 3, 13, 9, 0, tzinfo=cet), "supplier_report")
    found = outbox.inbound_since("M-1", since)
    assert [c.via for c in found] == ["in_person", "supplier_report"]
    assert found[0].note == "came by"
    assert found[0].at == datetime(2026, 3, 11, 23, 15, tzinfo=UTC)


@pytest.mark.parametrize("durable", [True, False])
def test_envelopes_are_the_rows_after_an_id_without_their_text(tmp_path: Path, durable: bool) -> None:
    box = Outbox(tmp_path / "outbox.sqlite", durable=durable)
    first = box.put(item("wf-M-1/hearing_letter/citizen/digital_post"))
    box.put(item("wf-M-1/sms/1", kind="sms", channel="nemsms", release_on=None, payload={}))
    box.put(item("wf-M-2/payment", meeting_id="M-2", kind="payment", channel="payments", recipient="payments",
                 release_on=None, payload={"action": "deduction_start"}))
    everything = box.envelopes()
    assert [e.kind for e in everything] == ["hearing_letter", "sms", "payment"]
    assert everything[0].release_on == date(2026, 3, 3) and everything[0].payload["deadline"] == "2026-03-11"
    later = box.envelopes(after_id=first.record.id)
    assert [(e.meeting_id, e.kind, e.channel, e.recipient) for e in later] == [
        ("M-1", "sms", "nemsms", "citizen"), ("M-2", "payment", "payments", "payments")]
    assert later[1].payload == {"action": "deduction_start"} and later[0].release_on is None
    assert not hasattr(later[0], "body_text")
