"""Typed search attributes: what an operator filters cases by in the Web UI. Never personal data."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
READINESS = SearchAttributeKey.for_keyword("Readiness")
LEGAL_GROUND = SearchAttributeKey.for_keyword("LegalGround")
CASE_ID = SearchAttributeKey.for_keyword("CaseId")
PENDING_TASK = SearchAttributeKey.for_keyword("PendingTask")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
DECISION = SearchAttributeKey.for_keyword("Decision")

ALL: tuple[SearchAttributeKey[object], ...] = (
    CASE_STAGE,  # type: ignore[assignment]
    READINESS,  # type: ignore[assignment]
    LEGAL_GROUND,  # type: ignore[assignment]
    CASE_ID,  # type: ignore[assignment]
    PENDING_TASK,  # type: ignore[assignment]
    NEXT_DEADLINE,  # type: ignore[assignment]
    DECISION,  # type: ignore[assignment]
)
