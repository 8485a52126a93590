"""Typed search attributes: what an operator filters cases by in the Web UI. Never personal data."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
READINESS = SearchAttributeKey.for_keyword("Readiness")
LEGAL_GROUND = SearchAttributeKey.for_keyword("LegalGround")
CASE_ID = SearchAttributeKey.for_keyword("CaseId")
PENDING_TASK = SearchAttributeKey.for_keyword("PendingTask")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
DECISION = SearchAttributeKey.for_keyword("Decision")

ALL: tuple[SearchAttributeKey[Any], ...] = (
    CASE_STAGE,
    READINESS,
    LEGAL_GROUND,
    CASE_ID,
    PENDING_TASK,
    NEXT_DEADLINE,
    DECISION,
)
