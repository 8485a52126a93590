"""The case journal (*notatpligt*): every step, when, and the facts a caseworker needs to see.

Step names are the public contract (contract.md); new ones may be added, none renamed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

# Contract step names (contract.md), plus additions marked (+).
HEARING_LETTER_SENT = "hearing_letter_sent"
DEADLINE_SET = "deadline_set"
RESPONSE_RECEIVED = "response_received"
CONTACT_MADE = "contact_made"
SMS_SENT = "sms_sent"
EMAIL_SENT = "email_sent"
PHONE_CALL = "phone_call"
REPRESENTATIVE_CONTACTED = "representative_contacted"
HOME_VISIT = "home_visit"
DECISION_TASK_OPENED = "decision_task_opened"
DECISION_REJECTED = "decision_rejected"
DECISION_MADE = "decision_made"
DECISION_LETTER_SENT = "decision_letter_sent"
DEDUCTION_REGISTERED = "deduction_registered"
REASSESSMENT_TASK_OPENED = "reassessment_task_opened"
SANCTION_ANNULLED = "sanction_annulled"
CASE_CLOSED = "case_closed"
CASE_OPENED = "case_opened"  # (+) the triggering event was accepted
INBOUND_CONTACT_CHECKED = "inbound_contact_checked"  # (+) ladder rung 1: did the citizen get in touch?
TASK_OPENED = "task_opened"  # (+) a phone/representative/home-visit task for a caseworker
TASK_CANCELLED = "task_cancelled"  # (+) a task withdrawn because contact was made
LADDER_STEP_SKIPPED = "ladder_step_skipped"  # (+) a rung that cannot apply (no phone, not on NemSMS, ...)
CITIZEN_ATTENDED = "citizen_attended"  # (+) the citizen turned up (jobcenter or offer)
CONTACT_RESTORED = "contact_restored"  # (+) the citizen is available again
DEDUCTION_ENDED = "deduction_ended"  # (+) payments told the deduction period's end
REASSESSMENT_MADE = "reassessment_made"  # (+) uphold or annul
DEDUCTION_LIMIT_ALARM = "deduction_limit_alarm"  # (+) the 3-month limit is near and no decision yet
LETTER_COPY_NEEDS_CASEWORKER = "letter_copy_needs_caseworker"  # (+) no address or e-mail for a copy
LETTER_DELIVERY_FAILED = "letter_delivery_failed"  # (+) the channel refused a letter for good; a caseworker takes it
LETTER_DELIVERED_MANUALLY = "letter_delivered_manually"  # (+) the caseworker delivered it by other means
DEADLINE_REMINDER_SENT = "deadline_reminder_sent"  # (+) NemSMS the working day before the answer deadline
TASK_ASSIGNED = "task_assigned"  # (+) a task given to (or claimed by) a caseworker, or back to the team
TASK_ESCALATED = "task_escalated"  # (+) an overdue task: reminder to the assignee, then the team lead


class JournalEntry(BaseModel):
    """One step. `details` holds the contract's per-step fields (channel, to, outcome, ...)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    step: str
    details: dict[str, Any] = {}

    def as_timeline_step(self, absence_at: datetime) -> dict[str, Any]:
        """The contract's flat shape: at, day (days since the missed meeting), step, then the details."""
        day = (self.at - absence_at).total_seconds() / 86400
        return {"at": self.at.isoformat(), "day": round(day, 2), "step": self.step, **self.details}
