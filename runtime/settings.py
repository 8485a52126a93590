"""Process settings from the environment, in one typed place (names and defaults documented in the README).

One pydantic-settings model, so a wrong value (a port that is not a number, say) stops the process at start
with the variable's name, instead of failing later somewhere else. Secrets (the intake token) are held as
``SecretStr`` and never printed; the payload keys stay with ``runtime.keys``, which reads them itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from workflows.api import TASK_QUEUE

DEFAULT_UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")
"""The embedded dev server's Web UI: the codec server's callers in the local system."""
METRICS_OFF = ("", "off", "none", "disabled")


class SettingsError(ValueError):
    """An environment variable holds a value the process cannot use; the message names the variable."""


class Settings(BaseSettings):
    """Everything a process reads from the environment. Field names are for code; aliases are the env names."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=True, env_ignore_empty=True, populate_by_name=True
    )

    temporal_address: str = Field("localhost:7233", alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field("default", alias="TEMPORAL_NAMESPACE")
    task_queue: str = Field(TASK_QUEUE, alias="MISSED_MEETING_TASK_QUEUE")
    data_dir: Path = Field(Path("data"), alias="MISSED_MEETING_DATA_DIR")
    policy_file: Path | None = Field(None, alias="MISSED_MEETING_POLICY")
    max_cached_workflows: int = Field(1000, ge=0, alias="MISSED_MEETING_MAX_CACHED_WORKFLOWS")
    metrics_address: str = Field("127.0.0.1:9464", alias="MISSED_MEETING_METRICS_ADDRESS")
    """Where the worker serves Prometheus metrics (host:port); ``off`` serves none."""
    shutdown_grace_seconds: float = Field(30.0, ge=0, alias="MISSED_MEETING_SHUTDOWN_GRACE_SECONDS")
    """How long a stopping worker lets in-flight activities finish before cancelling them."""
    intake_host: str = Field("127.0.0.1", alias="MISSED_MEETING_INTAKE_HOST")
    intake_port: int = Field(8235, ge=0, le=65535, alias="MISSED_MEETING_INTAKE_PORT")
    intake_token: SecretStr | None = Field(None, alias="MISSED_MEETING_INTAKE_TOKEN")
    intake_token_file: Path | None = Field(None, alias="MISSED_MEETING_INTAKE_TOKEN_FILE")
    intake_max_body_bytes: int = Field(1024 * 1024, ge=1, alias="MISSED_MEETING_INTAKE_MAX_BODY_BYTES")
    codec_host: str = Field("127.0.0.1", alias="MISSED_MEETING_CODEC_HOST")
    codec_port: int = Field(8234, ge=0, le=65535, alias="MISSED_MEETING_CODEC_PORT")
    codec_ui_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_UI_ORIGINS, alias="MISSED_MEETING_CODEC_UI_ORIGINS"
    )
    """Web UI origins allowed to call the codec server (comma-separated in the environment)."""

    @field_validator("codec_ui_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
        return value

    @field_validator("metrics_address")
    @classmethod
    def _check_metrics_address(cls, value: str) -> str:
        value = value.strip()
        if value.lower() in METRICS_OFF:
            return "off"
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port (e.g. 0.0.0.0:9464) or 'off'")
        return value

    @property
    def metrics_bind(self) -> str | None:
        """The metrics bind address, or None when metrics are off."""
        return None if self.metrics_address == "off" else self.metrics_address

    @classmethod
    def from_env(cls) -> Settings:
        """Read the environment; a bad value raises SettingsError naming the variable (never its value)."""
        try:
            return cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
            )
            raise SettingsError(f"invalid environment: {problems}") from None
