"""The settings object: the documented environment variables, their defaults, and clear errors for bad values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runtime.settings import Settings, SettingsError
from workflows.api import TASK_QUEUE

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("MISSED_MEETING_", "TEMPORAL_")):
            monkeypatch.delenv(name)


def test_defaults_are_the_local_system() -> None:
    s = Settings.from_env()
    assert (s.temporal_address, s.temporal_namespace, s.task_queue) == ("localhost:7233", "default", TASK_QUEUE)
    assert (s.data_dir, s.policy_file, s.max_cached_workflows) == (Path("data"), None, 1000)
    assert (s.metrics_address, s.metrics_bind) == ("127.0.0.1:9464", "127.0.0.1:9464")
    assert (s.intake_host, s.intake_port, s.intake_max_body_bytes) == ("127.0.0.1", 8235, 1024 * 1024)
    assert (s.codec_host, s.codec_port) == ("127.0.0.1", 8234)
    assert s.intake_token is None and s.shutdown_grace_seconds == 30


def test_environment_names_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "jobcenter",
        "MISSED_MEETING_TASK_QUEUE": "q", "MISSED_MEETING_DATA_DIR": "/var/lib/mm",
        "MISSED_MEETING_POLICY": "/etc/mm/policy.toml", "MISSED_MEETING_MAX_CACHED_WORKFLOWS": "10",
        "MISSED_MEETING_METRICS_ADDRESS": "0.0.0.0:9464", "MISSED_MEETING_SHUTDOWN_GRACE_SECONDS": "45",
        "MISSED_MEETING_INTAKE_HOST": "0.0.0.0", "MISSED_MEETING_INTAKE_PORT": "9000",
        "MISSED_MEETING_INTAKE_TOKEN_FILE": "/run/secrets/intake-token",
        "MISSED_MEETING_INTAKE_MAX_BODY_BYTES": "2048", "MISSED_MEETING_CODEC_HOST": "0.0.0.0",
        "MISSED_MEETING_CODEC_PORT": "9001", "MISSED_MEETING_CODEC_UI_ORIGINS": "http://localhost:8080, http://ui/",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    s = Settings.from_env()
    assert s.temporal_address == "temporal:7233" and s.temporal_namespace == "jobcenter" and s.task_queue == "q"
    assert s.data_dir == Path("/var/lib/mm") and s.policy_file == Path("/etc/mm/policy.toml")
    assert s.max_cached_workflows == 10 and s.metrics_bind == "0.0.0.0:9464" and s.shutdown_grace_seconds == 45
    assert (s.intake_host, s.intake_port, s.intake_max_body_bytes) == ("0.0.0.0", 9000, 2048)
    assert s.intake_token_file == Path("/run/secrets/intake-token")
    assert (s.codec_host, s.codec_port) == ("0.0.0.0", 9001)
    assert s.codec_ui_origins == ("http://localhost:8080", "http://ui")


def test_empty_means_default_and_off_turns_metrics_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISSED_MEETING_POLICY", "")
    monkeypatch.setenv("MISSED_MEETING_METRICS_ADDRESS", "off")
    s = Settings.from_env()
    assert s.policy_file is None and s.metrics_bind is None


@pytest.mark.parametrize(("name", "value"), [
    ("MISSED_MEETING_MAX_CACHED_WORKFLOWS", "many"),
    ("MISSED_MEETING_INTAKE_PORT", "70000"),
    ("MISSED_MEETING_METRICS_ADDRESS", "9464"),
    ("MISSED_MEETING_SHUTDOWN_GRACE_SECONDS", "-1"),
])
def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        Settings.from_env()


def test_the_token_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISSED_MEETING_INTAKE_TOKEN", "very-secret-token-value-123456")
    monkeypatch.setenv("MISSED_MEETING_INTAKE_PORT", "x")
    with pytest.raises(SettingsError) as error:
        Settings.from_env()
    assert "very-secret" not in str(error.value)
    monkeypatch.delenv("MISSED_MEETING_INTAKE_PORT")
    assert "very-secret" not in repr(Settings.from_env())


def test_every_variable_is_in_the_readme_table() -> None:
    table = {m for m in re.findall(r"^\| `([A-Z_]+)`", README.read_text(encoding="utf-8"), flags=re.M)}
    aliases = {field.alias or name for name, field in Settings.model_fields.items()}
    assert aliases <= table, f"not documented in the README's configuration table: {sorted(aliases - table)}"
