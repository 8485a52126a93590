"""The rendered texts: Danish dates, what each letter must say (forvaltningsloven §§ 19, 22-25), NemSMS."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from activities.models import Alarm, CaseRef, Email, Letter, PaymentNotice, Sms, TaskCancellation, TaskNotice
from domain import letters
from domain.events import Citizen, Ground, Representative, TaskKind
from tests.activity_builders import case_ref, hearing_letter

CPH = ZoneInfo("Europe/Copenhagen")
CPR = "0101901234"


def citizen(**changes: Any) -> Citizen:
    data: dict[str, Any] = {
        "cpr": CPR,
        "name": "Jens Hansen",
        "address": "Nørrebrogade 1, 2200 København N",
        "readiness": "aktivitetsparat",
        "digital_post": "registered",
        "nemsms": True,
        "phone": "+4512345678",
        "email": "jens@example.dk",
        "guidance_given_on": date(2025, 12, 1),
        "representatives": [
            {
                "role": "stoettekontaktperson",
                "name": "Anna Berg",
                "address": "Vesterbrogade 2, 1620 København V",
            }
        ],
    }
    data.update(changes)
    return Citizen.model_validate(data)


def case(ground: Ground = Ground.jobsamtale) -> CaseRef:
    return case_ref(ground)


def hearing(**changes: Any) -> Letter:
    return hearing_letter(citizen(), **changes)


def decision(**changes: Any) -> Letter:
    data: dict[str, Any] = {
        "idempotency_key": "missed-meeting-M-1/decision_letter/citizen/digital_post",
        "case": case(),
        "kind": "decision",
        "channel": "digital_post",
        "to": "citizen",
        "citizen": citizen(),
        "release_on": date(2026, 3, 23),
        "decision": "sanction",
        "deduction_from": date(2026, 3, 2),
    }
    data.update(changes)
    return Letter.model_validate(data)


# -- dates ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 11), "onsdag den 11. marts 2026"),
        (date(2026, 1, 1), "torsdag den 1. januar 2026"),
        (date(2026, 5, 17), "søndag den 17. maj 2026"),
        (date(2026, 12, 26), "lørdag den 26. december 2026"),
        (date(2026, 2, 2), "mandag den 2. februar 2026"),
    ],
)
def test_danish_date(day: date, expected: str) -> None:
    assert letters.danish_date(day) == expected


def test_danish_date_without_weekday() -> None:
    assert letters.danish_date(date(2026, 8, 5), weekday=False) == "5. august 2026"


def test_datetimes_are_shown_in_copenhagen_time() -> None:
    assert (
        letters.danish_datetime(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        == "mandag den 2. marts 2026 kl. 10.00"
    )
    # summer time: UTC+2
    assert (
        letters.danish_datetime(datetime(2026, 7, 1, 8, 30, tzinfo=UTC))
        == "onsdag den 1. juli 2026 kl. 10.30"
    )
    # late evening UTC is the next day in Copenhagen
    assert letters.danish_date(datetime(2026, 3, 10, 23, 30, tzinfo=UTC).astimezone(CPH).date()).startswith(
        "onsdag den 11."
    )


def test_times_are_not_zero_padded() -> None:
    assert letters.danish_time(datetime(2026, 3, 16, 8, 5, tzinfo=CPH)) == "kl. 8.05"


def test_genitive() -> None:
    assert letters.genitive("Jens") == "Jens'"
    assert letters.genitive("Anna") == "Annas"


# -- hearing letter ------------------------------------------------------------------------------------------
def test_hearing_letter_says_what_the_law_requires() -> None:
    text = letters.render_letter(hearing()).body
    assert "jobsamtale" in text
    assert "mandag den 2. marts 2026 kl. 10.00" in text
    assert "senest onsdag den 11. marts 2026" in text
    assert "forvaltningslovens § 19" in text
    assert "ret til at komme med dine bemærkninger" in text
    # how to answer: Digital Post, phone, in person
    assert "digitale postkasse" in text
    assert "ringe til" in text
    assert "komme forbi" in text
    # examples of a reasonable cause
    assert "rimelig grund" in text
    assert "syg" in text and "indlagt" in text
    # the decision may come without further notice
    assert "uden at kontakte dig igen" in text
    assert "Om Digital Post" not in text
    assert CPR not in text


@pytest.mark.parametrize(
    ("ground", "phrase", "section"),
    [
        (Ground.jobsamtale, "jobsamtale", "§ 37"),
        (Ground.raadighedsvurdering, "rådighedsvurdering", "§ 37"),
        (Ground.tilbud, "tilbud", "§ 36"),
        (Ground.selvbook, "booke", "§ 37"),
    ],
)
def test_hearing_letter_names_the_ground(ground: Ground, phrase: str, section: str) -> None:
    text = letters.render_letter(hearing(case=case(ground))).body
    assert phrase in text
    assert f"lov om aktiv socialpolitik {section}" in text


def test_paper_letter_for_never_logged_in_guides_on_digital_post() -> None:
    letter = hearing(
        channel="physical_post", citizen=citizen(digital_post="never_logged_in"), digital_post_guidance=True
    )
    text = letters.render_letter(letter).body
    assert "Om Digital Post" in text
    assert "MitID" in text
    assert "Borgerservice" in text
    # window envelope: the name and address come first on paper
    assert "Jens Hansen\nNørrebrogade 1, 2200 København N" in text


def test_exempt_citizen_is_not_told_to_answer_in_digital_post() -> None:
    text = letters.render_letter(
        hearing(channel="physical_post", citizen=citizen(digital_post="exempt"))
    ).body
    assert "digitale postkasse" not in text
    assert "ringe til" in text


def test_hearing_letter_needs_a_deadline() -> None:
    with pytest.raises(ValueError, match="deadline"):
        letters.render_letter(hearing(deadline=None))


def test_representative_copy_has_a_copy_header_and_their_address() -> None:
    rep = Representative(
        role="stoettekontaktperson", name="Anna Berg", address="Vesterbrogade 2, 1620 København V"
    )
    letter = hearing(channel="physical_post", to="stoettekontaktperson", representative=rep)
    text = letters.render_letter(letter).body
    assert "KOPI TIL DIG SOM STØTTEKONTAKTPERSON" in text
    assert "kopi af et brev, som vi har sendt til Jens Hansen" in text
    assert "Jens' sag" in text
    assert text.index("Anna Berg\nVesterbrogade 2") < text.index("KOPI")
    assert "Nørrebrogade" not in text  # the citizen's address is not the envelope address


def test_letterhead_phone_and_address_are_used() -> None:
    head = letters.Letterhead(phone="33 33 33 33", visit_address="Jobcentret, Gyldenløvesgade 11")
    text = letters.render_letter(hearing(), head).body
    assert "telefon 33 33 33 33" in text
    assert "Gyldenløvesgade 11" in text


# -- decision letter -----------------------------------------------------------------------------------------
def test_sanction_decision_letter() -> None:
    letter = decision(
        explanation="Jeg havde glemt det.",
        contact_log=["16. marts 2026: opkald, intet svar", "18. marts 2026: hjemmebesøg, ingen hjemme"],
        complaint_weeks=4,
    )
    rendered = letters.render_letter(letter)
    text = rendered.body
    assert rendered.subject == "Afgørelse: Fradrag i din kontanthjælp"
    assert "lov om aktiv socialpolitik § 37" in text
    assert "fra og med mandag den 2. marts 2026 og indtil du kontakter jobcentret" in text
    assert '"Jeg havde glemt det."' in text
    assert "- 16. marts 2026: opkald, intet svar" in text
    assert "- 18. marts 2026: hjemmebesøg, ingen hjemme" in text
    assert "Begrundelse" in text
    assert "senest 4 uger" in text
    assert "Ankestyrelsen" in text
    assert "§ 35, stk. 1" in text and "1. december 2025" in text


def test_decision_with_a_known_end_and_custom_reasons_and_complaint_weeks() -> None:
    letter = decision(
        deduction_to=date(2026, 3, 9), decision_reasons="Særlig begrundelse.", complaint_weeks=6
    )
    text = letters.render_letter(letter).body
    assert "til og med mandag den 9. marts 2026" in text
    assert "Særlig begrundelse." in text
    assert "senest 6 uger" in text
    assert "Vi har ikke modtaget en forklaring fra dig." in text


def test_offer_decision_cites_section_36_and_selvbook_runs_until_booking() -> None:
    assert "§ 36" in letters.render_letter(decision(case=case(Ground.tilbud))).body
    assert "indtil du har booket samtalen" in letters.render_letter(decision(case=case(Ground.selvbook))).body


@pytest.mark.parametrize("outcome", ["no_sanction_reasonable_cause", "no_sanction_other"])
def test_no_sanction_letters_announce_no_deduction(outcome: str) -> None:
    rendered = letters.render_letter(decision(decision=outcome, deduction_from=None))
    assert "ikke skal have fradrag" in rendered.body
    assert "Fradraget gælder" not in rendered.body
    assert "Hvis du vil klage" in rendered.body


def test_no_contact_section_without_contact_log() -> None:
    assert "Sådan har vi forsøgt" not in letters.render_letter(decision()).body


def test_decision_letter_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        letters.render_letter(decision(decision="maybe"))
    with pytest.raises(ValueError, match="first day"):
        letters.render_letter(decision(deduction_from=None))


def test_reassessment_letters() -> None:
    upheld = letters.render_letter(decision(kind="reassessment", decision="uphold"))
    annulled = letters.render_letter(decision(kind="reassessment", decision="annul", explanation="Krise."))
    assert "fastholder" in upheld.subject
    assert "Vi fastholder afgørelsen" in upheld.body
    assert "Vi ændrer afgørelsen" in annulled.body
    assert "udbetalt igen" in annulled.body
    assert '"Krise."' in annulled.body
    with pytest.raises(ValueError):
        letters.render_letter(decision(kind="reassessment", decision="sanction"))


def test_rendering_is_deterministic() -> None:
    assert letters.render_letter(hearing()) == letters.render_letter(hearing())


def test_caseworker_forwarding_note_wraps_the_copy() -> None:
    rep = Representative(role="mentor", name="Ole Berg")
    letter = hearing(channel="caseworker", to="mentor", representative=rep)
    note = letters.caseworker_forwarding_note(letter, letters.render_letter(letter))
    assert note.subject.startswith("Videresend kopi til mentor")
    assert "KOPI TIL DIG SOM MENTOR" in note.body


# -- NemSMS and e-mail ---------------------------------------------------------------------------------------
def sms(**changes: Any) -> Sms:
    data: dict[str, Any] = {
        "idempotency_key": "k/sms/1",
        "case": case(),
        "citizen": citizen(),
        "number": 1,
        "release_on": date(2026, 3, 13),
    }
    data.update(changes)
    return Sms.model_validate(data)


@pytest.mark.parametrize("max_chars", [150, 100, 60, 40, 25])
@pytest.mark.parametrize("phone", [None, "33 33 33 33", "+45 33 33 33 33 lokal 1234"])
def test_sms_fits_and_holds_no_personal_data(max_chars: int, phone: str | None) -> None:
    head = letters.Letterhead(phone=phone)
    for number in (1, 2, 3):
        text = letters.sms_text(sms(max_chars=max_chars, number=number), head)
        assert 0 < len(text) <= max_chars
        assert CPR not in text and "Jens" not in text and "Hansen" not in text


def test_sms_asks_the_citizen_to_call() -> None:
    text = letters.sms_text(sms(), letters.Letterhead(phone="33 33 33 33"))
    assert "Ring til os på 33 33 33 33" in text
    assert "stadig" in letters.sms_text(sms(number=2))


def test_fit_text_cuts_at_a_word_with_an_ellipsis() -> None:
    assert letters.fit_text(["kort"], 10) == "kort"
    cut = letters.fit_text(["et meget langt ord og flere ord"], 12)
    assert cut.endswith("…") and len(cut) <= 12 and cut == "et meget…"


def test_email_says_nothing_about_the_case() -> None:
    mail = Email(idempotency_key="k/email/1", case=case(), citizen=citizen(), number=1)
    rendered = letters.email_text(mail)
    assert rendered.body.startswith("Kære Jens\n")
    assert CPR not in rendered.body
    assert "Nørrebrogade" not in rendered.body
    assert "K-2026-0001" not in rendered.body
    assert "fradrag" not in rendered.body.lower()


# -- tasks, payments, alarms ---------------------------------------------------------------------------------
def test_task_summary_and_task_text() -> None:
    summary = letters.task_summary(
        contact_log=["opkald: intet svar"],
        explanation=None,
        warnings=letters.warning_signs(citizen(digital_post="never_logged_in", guidance_given_on=None)),
        deadline=date(2026, 3, 11),
    )
    assert "- opkald: intet svar" in summary
    assert "aldrig været logget på Digital Post" in summary
    assert "§ 35" in summary
    assert "onsdag den 11. marts 2026" in summary
    task = TaskNotice(
        idempotency_key="missed-meeting-M-1/task/3/representative",
        case=case(),
        kind=TaskKind.representative,
        attempt=2,
        role="stoettekontaktperson",
        opened_at=datetime(2026, 3, 16, 8, 0, tzinfo=CPH),
        summary=summary,
    )
    rendered = letters.task_text(task)
    assert rendered.subject == "Kontakt borgerens støttekontaktperson (forsøg 2)"
    assert summary in rendered.body
    assert "no_contact, contact_made" in rendered.body
    assert "missed-meeting-M-1/task/3/representative" in rendered.body


def test_cancellation_payment_and_alarm_texts() -> None:
    cancel = TaskCancellation(
        idempotency_key="c", task_key="t/1/home_visit", case=case(), reason="contact made"
    )
    assert "t/1/home_visit" in letters.task_cancellation_text(cancel).body
    start = PaymentNotice(
        idempotency_key="p", case=case(Ground.tilbud), kind="deduction_start", from_day=date(2026, 3, 2)
    )
    assert "§ 36" in letters.payment_text(start).body and "indtil videre" in letters.payment_text(start).body
    end = PaymentNotice(
        idempotency_key="p2",
        case=case(),
        kind="deduction_end",
        from_day=date(2026, 3, 2),
        to_day=date(2026, 3, 20),
    )
    assert "fredag den 20. marts 2026" in letters.payment_text(end).body
    reversal = PaymentNotice(idempotency_key="p3", case=case(), kind="reversal", from_day=date(2026, 3, 2))
    assert letters.payment_text(reversal).subject == "Tilbagefør fradrag"
    alarm = Alarm(idempotency_key="a", case=case(), limit=date(2026, 6, 30), stage="contacting")
    assert "tirsdag den 30. juni 2026" in letters.alarm_text(alarm).body
