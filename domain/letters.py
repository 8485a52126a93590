"""The texts the jobcenter sends: hearing, decision and reassessment letters, NemSMS, e-mail, task notices.

Pure functions (no I/O, no clock, no locale): the same input always renders the same text, so a letter in the
outbox can be re-rendered and compared, and tests read like the letters a K-kassen caseworker knows. Danish
weekday and month names are spelled out here rather than taken from the OS locale, which differs between
machines. Every date and time is shown in the municipality's zone (Europe/Copenhagen).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from activities.models import (
    Alarm,
    Email,
    Letter,
    PaymentNotice,
    Sms,
    TaskCancellation,
    TaskEscalation,
    TaskNotice,
)
from domain.events import TASK_OUTCOMES, Citizen, DigitalPostStatus, Ground, TaskKind

LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip

ROLE_NAMES: dict[str, str] = {
    "citizen": "borger",
    "mentor": "mentor",
    "stoettekontaktperson": "støttekontaktperson",
    "social_services": "kontaktperson i socialforvaltningen",
    "family": "pårørende",
    "partsrepraesentant": "partsrepræsentant",
    "vaerge": "værge",
}
"""Representative roles as a letter names them (*partsrepræsentant*, *værge*, ...)."""


@dataclass(frozen=True)
class Letterhead:
    """Who sends, and how the citizen reaches them. Configuration, so another municipality is an edit."""

    authority: str = "Københavns Kommune"
    unit: str = "Jobcenter København, K-kassen"
    short_name: str = "Jobcenter København"
    """Used where space is short (NemSMS)."""
    phone: str | None = None
    """The jobcenter's phone number; without it the texts say 'ring til jobcentret'."""
    phone_hours: str = "mandag til fredag kl. 8.00-15.00"
    sms_hours: str = "hverdage kl. 8-15"
    """The phone hours in the few characters a NemSMS has room for."""
    visit_address: str | None = None
    """Where the citizen can come by; without it the texts say 'i jobcentret'."""


@dataclass(frozen=True)
class RenderedText:
    """A subject line and a plain-text body, exactly as the recipient will read them."""

    subject: str
    body: str


# -- dates ---------------------------------------------------------------------------------------------------
def danish_date(day: date, weekday: bool = True) -> str:
    """`onsdag den 11. marts 2026` (or `11. marts 2026` without the weekday)."""
    plain = f"{day.day}. {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]} den {plain}" if weekday else plain


def danish_time(moment: datetime) -> str:
    """`kl. 8.00`, `kl. 10.30` in Copenhagen time (Danish writes a full stop between hours and minutes)."""
    loc = moment.astimezone(LOCAL_ZONE)
    return f"kl. {loc.hour}.{loc.minute:02d}"


def danish_datetime(moment: datetime) -> str:
    """`mandag den 2. marts 2026 kl. 10.00` in Copenhagen time."""
    return f"{danish_date(moment.astimezone(LOCAL_ZONE).date())} {danish_time(moment)}"


# -- small helpers -------------------------------------------------------------------------------------------
def first_name(full_name: str) -> str:
    parts = full_name.split()
    return parts[0] if parts else full_name


def genitive(name: str) -> str:
    """Danish possessive: `Jens' sag`, `Annas sag`."""
    return f"{name}'" if name[-1:].lower() in {"s", "x", "z"} else f"{name}s"


def role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role)


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _phone_phrase(head: Letterhead) -> str:
    if head.phone:
        return f"ringe til os på telefon {head.phone} ({head.phone_hours})"
    return f"ringe til jobcentret ({head.phone_hours})"


def _visit_phrase(head: Letterhead) -> str:
    where = head.visit_address or "jobcentret"
    return f"komme forbi {where} i vores åbningstid"


def _signature(head: Letterhead) -> str:
    return f"Med venlig hilsen\n\n{head.unit}\n{head.authority}"


@dataclass(frozen=True)
class _GroundText:
    subject: str
    """Completes 'Du mødte ikke op ...' in a subject line."""
    facts: str
    """A sentence with `{when}` stating what happened."""
    section: str
    """The section of lov om aktiv socialpolitik (LAS) the deduction rests on."""
    law_topic: str


_GROUNDS: dict[Ground, _GroundText] = {
    Ground.jobsamtale: _GroundText(
        subject="Du mødte ikke op til din jobsamtale",
        facts="Du var indkaldt til en jobsamtale i jobcentret {when}. Du mødte ikke op til samtalen.",
        section="§ 37",
        law_topic="udeblivelse fra en samtale i jobcentret",
    ),
    Ground.raadighedsvurdering: _GroundText(
        subject="Du mødte ikke op til samtalen om din rådighed",
        facts=(
            "Du var indkaldt til en samtale i jobcentret {when}, hvor vi skulle vurdere din rådighed "
            "(rådighedsvurdering). Du mødte ikke op til samtalen."
        ),
        section="§ 37",
        law_topic="udeblivelse fra en samtale i jobcentret",
    ),
    Ground.tilbud: _GroundText(
        subject="Du mødte ikke op i dit tilbud",
        facts="Vi har fået at vide, at du ikke mødte op i dit tilbud {when}.",
        section="§ 36",
        law_topic="udeblivelse fra et tilbud",
    ),
    Ground.selvbook: _GroundText(
        subject="Du har ikke booket din samtale i jobcentret",
        facts=(
            "Du skulle selv booke en samtale i jobcentret senest {when}. Vi kan se, at du ikke har booket "
            "samtalen inden fristen."
        ),
        section="§ 37",
        law_topic="manglende selvbooking af en samtale i jobcentret",
    ),
}

REASONABLE_CAUSES = (
    "du var syg",
    "du var indlagt på hospitalet",
    "du eller din partner fødte, eller I adopterede et barn",
    "alvorlig sygdom eller dødsfald i din nærmeste familie",
    "du kunne ikke få pasning til dit barn",
    "du fik ikke indkaldelsen, eller den kom for sent",
    "en akut situation, som du ikke kunne forudse eller gøre noget ved",
)
"""Examples of a reasonable cause (*rimelig grund*) the hearing letter names."""


def ground_facts(letter: Letter) -> str:
    return _GROUNDS[letter.case.ground].facts.format(when=danish_datetime(letter.case.absence_at))


def legal_basis(ground: Ground) -> str:
    """The legal basis a decision letter cites for this ground (LAS § 36 offers, § 37 meetings)."""
    text = _GROUNDS[ground]
    return f"lov om aktiv socialpolitik {text.section} ({text.law_topic})"


# -- letter framing ------------------------------------------------------------------------------------------
def _address_block(letter: Letter) -> str:
    """Name and address for a paper letter's window envelope; Digital Post needs none."""
    if letter.channel != "physical_post":
        return ""
    if letter.representative is not None:
        rep = letter.representative
        return f"{rep.name}\n{rep.address or ''}".rstrip() + "\n\n"
    return f"{letter.citizen.name}\n{letter.citizen.address}\n\n"


def _copy_header(letter: Letter) -> str:
    """The header a representative's copy starts with: who it was sent to, and why they get it."""
    if letter.to == "citizen":
        return ""
    role = role_name(letter.to)
    citizen = letter.citizen.name
    return (
        f"KOPI TIL DIG SOM {role.upper()}\n"
        f"Dette er en kopi af et brev, som vi har sendt til {citizen} om {genitive(first_name(citizen))} sag "
        f"i jobcentret. Du får kopien, fordi du er registreret som {role} for {citizen}. "
        f"Brevet er skrevet til {citizen}."
        + (
            f" Hjælp gerne med at sikre, at {first_name(citizen)} har set brevet og svarer inden fristen."
            if letter.kind == "hearing"
            else ""
        )
        + "\n\n"
    )


def _frame(letter: Letter, head: Letterhead, subject: str, sections: Sequence[str]) -> RenderedText:
    top = (
        f"{head.authority}\n{head.unit}\n\n"
        f"{_address_block(letter)}"
        f"Dato: {danish_date(letter.release_on, weekday=False)}\n"
        f"Sagsnummer: {letter.case.case_id}\n\n"
        f"{_copy_header(letter)}"
        f"{subject}\n\n"
    )
    body = top + "\n\n".join(s.strip() for s in sections if s.strip()) + f"\n\n{_signature(head)}\n"
    return RenderedText(subject=subject, body=body)


def _how_to_answer(letter: Letter, head: Letterhead) -> str:
    ways = [_phone_phrase(head), _visit_phrase(head)]
    if letter.citizen.digital_post != DigitalPostStatus.exempt:
        ways.insert(0, "svare direkte på dette brev i din digitale postkasse (Digital Post)")
    return "Sådan svarer du\nDu kan:\n" + _bullets(ways)


def _digital_post_guidance() -> str:
    return (
        "Om Digital Post\n"
        "Vi sender dette brev både med almindelig post og til din digitale postkasse, fordi det ser ud til, "
        "at du ikke har været logget på Digital Post. Breve fra kommunen og andre myndigheder kommer i din "
        "digitale postkasse, og de gælder på samme måde som et brev med almindelig post - også selv om du "
        "ikke har læst dem. Derfor er det vigtigt, at du holder øje med din digitale postkasse.\n"
        "Du kan læse din Digital Post på borger.dk eller i appen Digital Post. Du logger på med MitID. "
        "Hvis du har brug for hjælp til at komme i gang, kan du få hjælp i Borgerservice. Hvis du ikke kan "
        "bruge Digital Post, kan du i Borgerservice spørge, om du kan blive fritaget og få dine breve med "
        "almindelig post."
    )


# -- hearing letter (partshøring, forvaltningsloven § 19) ----------------------------------------------------
def hearing_letter(letter: Letter, head: Letterhead | None = None) -> RenderedText:
    """The hearing letter (*partshøringsbrev*): facts, right to comment, deadline, how to answer, next."""
    head = head or Letterhead()
    if letter.deadline is None:
        raise ValueError("a hearing letter needs its answer deadline")
    ground = _GROUNDS[letter.case.ground]
    deadline = danish_date(letter.deadline)
    sections = [
        ground_facts(letter),
        (
            "Før vi afgør, om du skal have et fradrag i din kontanthjælp, vil vi gerne høre din forklaring. "
            "Du har ret til at komme med dine bemærkninger til sagen, inden vi træffer en afgørelse "
            "(partshøring efter forvaltningslovens § 19). Reglerne om fradrag står i lov om aktiv "
            f"socialpolitik {ground.section}."
        ),
        f"Frist for at svare\nVi skal have dit svar senest {deadline}.",
        _how_to_answer(letter, head),
        (
            "Hvis du havde en rimelig grund\n"
            "Du får ikke fradrag, hvis du havde en rimelig grund til ikke at møde op. En rimelig grund kan "
            "for eksempel være, at:\n"
            + _bullets(REASONABLE_CAUSES)
            + "\nFortæl os om din grund, og send gerne dokumentation, hvis du har den, for eksempel en "
            "lægeerklæring eller et brev fra hospitalet."
        ),
        (
            "Hvis vi ikke hører fra dig\n"
            f"Hvis vi ikke har hørt fra dig senest {deadline}, kan vi træffe afgørelse i sagen ud fra de "
            "oplysninger, vi har, uden at kontakte dig igen. Afgørelsen kan betyde, at der bliver trukket i "
            "din kontanthjælp."
        ),
        _digital_post_guidance() if letter.digital_post_guidance else "",
    ]
    return _frame(letter, head, f"Partshøring: {ground.subject}", sections)


# -- decision letter (forvaltningsloven §§ 22-25) ------------------------------------------------------------
_DECISION_SUBJECTS = {
    "sanction": "Afgørelse: Fradrag i din kontanthjælp",
    "no_sanction_reasonable_cause": "Afgørelse: Du får ikke fradrag i din kontanthjælp",
    "no_sanction_other": "Afgørelse: Du får ikke fradrag i din kontanthjælp",
}


def deduction_period(letter: Letter) -> str:
    """`fra og med ... til og med ...`, or open-ended until the citizen contacts the jobcenter."""
    if letter.deduction_from is None:
        raise ValueError("a sanction needs the first day of the deduction")
    start = f"fra og med {danish_date(letter.deduction_from)}"
    if letter.deduction_to is not None:
        return f"{start} til og med {danish_date(letter.deduction_to)}"
    if letter.case.ground == Ground.selvbook:
        return f"{start} og indtil du har booket samtalen eller kontaktet jobcentret"
    return f"{start} og indtil du kontakter jobcentret"


def _decision_statement(letter: Letter) -> str:
    decision = letter.decision
    if decision == "sanction":
        return (
            "Afgørelse\nVi har besluttet, at du skal have fradrag i din kontanthjælp. "
            f"Fradraget gælder {deduction_period(letter)}. Fradraget bliver trukket i din næste udbetaling."
        )
    if decision == "no_sanction_reasonable_cause":
        return (
            "Afgørelse\nVi har besluttet, at du ikke skal have fradrag i din kontanthjælp, "
            "fordi du havde en rimelig grund til ikke at møde op."
        )
    if decision == "no_sanction_other":
        return (
            "Afgørelse\nVi har besluttet, at du ikke skal have fradrag i din kontanthjælp. "
            "Vi har vurderet din samlede situation."
        )
    raise ValueError(f"unknown decision {decision!r}")


def _default_reasons(letter: Letter) -> str:
    if letter.decision == "sanction":
        if letter.explanation:
            return (
                "Vi har vurderet din forklaring. Vi vurderer, at det, du har fortalt, ikke er en rimelig "
                "grund til ikke at møde op."
            )
        return (
            "Du har ikke givet os en forklaring, og vi har ikke oplysninger om, at du havde en rimelig grund."
        )
    if letter.decision == "no_sanction_reasonable_cause":
        return "Vi vurderer, at det, du har fortalt os, er en rimelig grund til ikke at møde op."
    return (
        "Vi vurderer, at der er særlige forhold i din situation, og at et fradrag ikke vil hjælpe dig til at "
        "stå til rådighed."
    )


def _facts(letter: Letter) -> str:
    lines = [ground_facts(letter)]
    if letter.citizen.guidance_given_on is not None:
        lines.append(
            "Du har fået skriftlig vejledning om dine pligter, og om hvad der sker, hvis du ikke overholder "
            f"dem, den {danish_date(letter.citizen.guidance_given_on, weekday=False)} "
            "(lov om aktiv socialpolitik § 35, stk. 1)."
        )
    lines.append(
        "Vi har sendt dig et brev om sagen og givet dig mulighed for at komme med dine bemærkninger."
    )
    return "Det har vi lagt vægt på\n" + _bullets(lines)


def _explanation(letter: Letter) -> str:
    if letter.explanation:
        return f'Din forklaring\nDu har fortalt os:\n"{letter.explanation.strip()}"'
    return "Din forklaring\nVi har ikke modtaget en forklaring fra dig."


def _contact_attempts(letter: Letter) -> str:
    if not letter.contact_log:
        return ""
    return (
        "Sådan har vi forsøgt at komme i kontakt med dig\n"
        "Før vi traf afgørelsen, har vi forsøgt at få personlig kontakt med dig:\n"
        + _bullets(letter.contact_log)
    )


def complaint_guidance(weeks: int, head: Letterhead) -> str:
    """Klagevejledning (forvaltningsloven § 25): to the municipality first, which reassesses before appeal."""
    return (
        "Hvis du vil klage\n"
        f"Hvis du er uenig i afgørelsen, kan du klage. Klagen skal være modtaget hos {head.authority} senest "
        f"{weeks} uger efter den dag, du har fået denne afgørelse. Du kan klage ved at svare på dette brev i "
        f"Digital Post, ved at skrive til os, ved at {_phone_phrase(head)} eller ved at "
        f"{_visit_phrase(head)}. "
        "Vi ser på sagen igen. Hvis vi fastholder afgørelsen, sender vi din klage videre til Ankestyrelsen, "
        "og du får besked om det.\n"
        "Du har ret til at se dokumenterne i din sag (aktindsigt)."
    )


def decision_letter(letter: Letter, head: Letterhead | None = None) -> RenderedText:
    """The decision (*afgørelse*): decision, legal basis, facts, explanation, reasons, contacts, complaint."""
    head = head or Letterhead()
    if letter.decision not in _DECISION_SUBJECTS:
        raise ValueError(f"unknown decision {letter.decision!r}")
    sections = [
        _decision_statement(letter),
        f"Regler\nAfgørelsen er truffet efter {legal_basis(letter.case.ground)}.",
        _facts(letter),
        _explanation(letter),
        _contact_attempts(letter),
        "Begrundelse\n" + (letter.decision_reasons or _default_reasons(letter)).strip(),
        complaint_guidance(letter.complaint_weeks, head),
    ]
    return _frame(letter, head, _DECISION_SUBJECTS[letter.decision], sections)


# -- reassessment letter (genvurdering) ----------------------------------------------------------------------
def reassessment_letter(letter: Letter, head: Letterhead | None = None) -> RenderedText:
    """New information after the decision: the caseworker upholds (`uphold`) or annuls (`annul`) it."""
    head = head or Letterhead()
    intro = (
        "Vi har fået nye oplysninger i din sag og har derfor set på vores afgørelse om fradrag i din "
        "kontanthjælp igen."
    )
    if letter.decision == "uphold":
        subject = "Genvurdering: Vi fastholder afgørelsen om fradrag"
        statement = "Afgørelse\nVi fastholder afgørelsen. Fradraget i din kontanthjælp gælder fortsat."
        default_reasons = (
            "De nye oplysninger ændrer ikke vores vurdering af, at du ikke havde en rimelig grund."
        )
    elif letter.decision == "annul":
        subject = "Genvurdering: Du får alligevel ikke fradrag"
        statement = (
            "Afgørelse\nVi ændrer afgørelsen: Du skal ikke have fradrag i din kontanthjælp. Hvis der "
            "allerede er trukket et beløb, får du det udbetalt igen."
        )
        default_reasons = "Ud fra de nye oplysninger vurderer vi, at du ikke skal have fradrag."
    else:
        raise ValueError(f"a reassessment is 'uphold' or 'annul', not {letter.decision!r}")
    sections = [
        intro,
        statement,
        f"Regler\nAfgørelsen er truffet efter {legal_basis(letter.case.ground)}.",
        _explanation(letter) if letter.explanation else "",
        "Begrundelse\n" + (letter.decision_reasons.strip() if letter.decision_reasons else default_reasons),
        complaint_guidance(letter.complaint_weeks, head),
    ]
    return _frame(letter, head, subject, sections)


def render_letter(letter: Letter, head: Letterhead | None = None) -> RenderedText:
    """Render any `Letter` by its kind."""
    if letter.kind == "hearing":
        return hearing_letter(letter, head)
    if letter.kind == "decision":
        return decision_letter(letter, head)
    return reassessment_letter(letter, head)


def caseworker_forwarding_note(letter: Letter, rendered: RenderedText) -> RenderedText:
    """A representative has neither postal address nor e-mail: a caseworker forwards the copy by hand."""
    role = role_name(letter.to)
    return RenderedText(
        subject=f"Videresend kopi til {role}: {rendered.subject}",
        body=(
            f"Borgerens {role} skal have en kopi af brevet nedenfor, men vi har hverken postadresse eller "
            f"e-mail på vedkommende. Giv kopien videre personligt eller på anden sikker måde, og notér det "
            f"på sagen ({letter.case.case_id}).\n\n"
            "----- Kopi af brevet -----\n\n" + rendered.body
        ),
    )


# -- NemSMS and e-mail ---------------------------------------------------------------------------------------
def fit_text(candidates: Sequence[str], max_chars: int) -> str:
    """The first candidate that fits; else the last one cut at a word boundary with an ellipsis."""
    if max_chars < 2:
        raise ValueError("max_chars must be at least 2")
    for text in candidates:
        if len(text) <= max_chars:
            return text
    last = candidates[-1]
    cut = last[: max_chars - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def sms_text(sms: Sms, head: Letterhead | None = None) -> str:
    """A NemSMS asking the citizen to call: no personal data, at most `sms.max_chars` characters."""
    head = head or Letterhead()
    if sms.deadline_reminder is not None:
        return deadline_reminder_text(sms.deadline_reminder, sms.max_chars, head)
    want = "har stadig brug for at tale med dig" if sms.number > 1 else "vil gerne tale med dig"
    call = f"Ring til os på {head.phone}" if head.phone else "Ring til jobcentret"
    hours = head.sms_hours
    candidates = [
        f"{head.short_name} {want}. {call} {hours}. Læs også dit brev fra os i Digital Post.",
        f"{head.short_name} {want}. {call} {hours}.",
        f"{head.short_name}: {call} {hours}.",
        f"{call}. {head.short_name}",
    ]
    return fit_text(candidates, sms.max_chars)


def deadline_reminder_text(deadline: date, max_chars: int, head: Letterhead | None = None) -> str:
    """The NemSMS the working day before the answer deadline: answer our letter by then, or call. It names
    the deadline, never the case, so a phone that others read reveals nothing."""
    head = head or Letterhead()
    day = f"{WEEKDAYS[deadline.weekday()]} den {deadline.day}. {MONTHS[deadline.month - 1]}"
    call = f"ring til os på {head.phone}" if head.phone else "ring til jobcentret"
    candidates = [
        f"{head.short_name}: Husk at svare på vores brev senest {day}. Svar på brevet eller {call} {head.sms_hours}.",
        f"{head.short_name}: Husk at svare på vores brev senest {day}.",
        f"Husk at svare på brevet fra {head.short_name} senest {deadline.day}.{deadline.month}.",
    ]
    return fit_text(candidates, max_chars)


def email_text(email: Email, head: Letterhead | None = None) -> RenderedText:
    """An e-mail asking the citizen to get in touch; it says nothing about the case (e-mail is not secure)."""
    head = head or Letterhead()
    hello = f"Kære {first_name(email.citizen.name)}"
    body = (
        f"{hello}\n\n"
        "Vi har forsøgt at få kontakt med dig, og vi vil gerne tale med dig hurtigst muligt. Vi har sendt "
        "dig et brev i Digital Post.\n\n"
        f"Du kan {_phone_phrase(head)} eller {_visit_phrase(head)}.\n\n"
        "Af hensyn til din sikkerhed skriver vi ikke om din sag i denne e-mail. Svar derfor ikke med "
        "personlige oplysninger, for eksempel dit cpr-nummer eller oplysninger om dit helbred.\n\n"
        f"{_signature(head)}\n"
    )
    return RenderedText(subject=f"{head.short_name} vil gerne tale med dig", body=body)


# -- tasks, payments, alarms ---------------------------------------------------------------------------------
_TASK_TITLES: dict[TaskKind, str] = {
    TaskKind.phone_call: "Ring til borgeren",
    TaskKind.representative: "Kontakt borgerens {role}",
    TaskKind.home_visit: "Hjemmebesøg hos borgeren",
    TaskKind.decision: "Træf afgørelse (rådighedsvurdering)",
    TaskKind.reassessment: "Genvurder afgørelsen (nye oplysninger)",
    TaskKind.manual_delivery: "Brev kunne ikke leveres: lever det på anden vis",
}

_TASK_INSTRUCTIONS: dict[TaskKind, str] = {
    TaskKind.phone_call: (
        "Ring til borgeren på det nummer, der står i sagen. Læg en besked på telefonsvareren, hvis borgeren "
        "ikke tager telefonen, og bed borgeren ringe til jobcentret."
    ),
    TaskKind.representative: (
        "Bed borgerens {role} om hjælp til at få kontakt med borgeren (udvidet partshøring)."
    ),
    TaskKind.home_visit: (
        "Tag på hjemmebesøg. Hvis ingen er hjemme, så læg en besked om at kontakte jobcentret."
    ),
    TaskKind.decision: (
        "Vurder sagen og træf afgørelse: sanktion, ingen sanktion (rimelig grund) eller ingen sanktion "
        "(andre forhold). For aktivitetsparate borgere skal begrundelsen forholde sig både til andre forhold "
        "og til, om et fradrag vil fremme borgerens rådighed."
    ),
    TaskKind.reassessment: (
        "Borgeren har givet nye oplysninger efter afgørelsen. Vurder, om afgørelsen skal fastholdes eller "
        "ændres."
    ),
    TaskKind.manual_delivery: (
        "Et brev i sagen blev afvist af forsendelseskanalen (se sagens journal). Lever brevet til modtageren på "
        "anden vis, fx med almindelig post eller ved personligt fremmøde, og meld tilbage, når det er leveret."
    ),
}


def warning_signs(citizen: Citizen) -> list[str]:
    """What a caseworker must notice before deciding (domain.md § 4), from the citizen's record alone."""
    signs = []
    if citizen.digital_post == DigitalPostStatus.never_logged_in:
        signs.append(
            "Borgeren har aldrig været logget på Digital Post (brevet er også sendt med almindelig post)."
        )
    if citizen.digital_post == DigitalPostStatus.exempt:
        signs.append("Borgeren er fritaget for Digital Post; breve er sendt med almindelig post.")
    if citizen.guidance_given_on is None:
        signs.append("Ingen skriftlig vejledning efter LAS § 35, stk. 1 på sagen: sanktion er ikke lovlig.")
    if not citizen.phone:
        signs.append("Intet telefonnummer på sagen.")
    return signs


def task_summary(
    *,
    contact_log: Sequence[str] = (),
    explanation: str | None = None,
    warnings: Sequence[str] = (),
    deadline: date | None = None,
) -> str:
    """The text of `TaskNotice.summary`: the contact log so far, the citizen's explanation, warning signs."""
    parts = []
    if deadline is not None:
        parts.append(f"Svarfrist i partshøringen: {danish_date(deadline)}.")
    parts.append("Kontaktforsøg indtil nu:\n" + (_bullets(contact_log) if contact_log else "- ingen"))
    parts.append(f"Borgerens forklaring: {explanation.strip() if explanation else 'ingen'}")
    if warnings:
        parts.append("Opmærksomhedspunkter:\n" + _bullets(warnings))
    return "\n\n".join(parts)


def _case_line(case_id: str, meeting_id: str, ground: Ground, absence_at: datetime) -> str:
    return f"Sag {case_id}, møde {meeting_id} ({ground.value}), udeblivelse {danish_datetime(absence_at)}."


def task_text(task: TaskNotice) -> RenderedText:
    """A task for a caseworker: what to do, the case, the summary, and the outcomes to report back."""
    role = role_name(task.role) if task.role else "kontaktperson"
    title = _TASK_TITLES[task.kind].format(role=role)
    if task.kind in (TaskKind.phone_call, TaskKind.home_visit, TaskKind.representative):
        title += f" (forsøg {task.attempt})"
    outcomes = ", ".join(TASK_OUTCOMES[task.kind])
    case = task.case
    body = (
        f"{title}\n\n"
        f"{_case_line(case.case_id, case.meeting_id, case.ground, case.absence_at)}\n"
        f"Opgaven er oprettet {danish_datetime(task.opened_at)}.\n"
        f"Opgavenøgle: {task.idempotency_key}\n\n"
        f"{_TASK_INSTRUCTIONS[task.kind].format(role=role)}\n\n"
        f"{task.summary.strip()}\n\n"
        f"Meld resultatet tilbage som en af: {outcomes}.\n"
    )
    return RenderedText(subject=title, body=body)


def task_cancellation_text(cancel: TaskCancellation) -> RenderedText:
    case = cancel.case
    return RenderedText(
        subject="Opgave annulleret",
        body=(
            f"Opgaven {cancel.task_key} er annulleret: {cancel.reason}.\n"
            f"{_case_line(case.case_id, case.meeting_id, case.ground, case.absence_at)}\n"
            "Der skal ikke gøres mere ved opgaven.\n"
        ),
    )


def task_escalation_text(esc: TaskEscalation) -> RenderedText:
    """An overdue task: a reminder to the caseworker (or the team's queue), or a word to the team lead. The
    citizen waits for the case to move, and a deduction must be carried out in time."""
    case = esc.case
    title = _TASK_TITLES[esc.kind].format(role="kontaktperson")
    holder = f"tildelt {esc.assignee}" if esc.assignee else "ikke tildelt nogen"
    if esc.to == "team_lead":
        subject = f"Til teamleder: opgave over fristen ({title})"
        action = "Opgaven er stadig ikke løst efter påmindelse. Sørg for at den bliver fordelt og løst."
    else:
        subject = f"Påmindelse: opgave over fristen ({title})"
        action = "Løs opgaven hurtigst muligt, eller giv den videre til en kollega."
    return RenderedText(
        subject=subject,
        body=(
            f"{subject}\n\n"
            f"{_case_line(case.case_id, case.meeting_id, case.ground, case.absence_at)}\n"
            f"Opgaven {esc.task_key} skulle være løst {danish_datetime(esc.due_at)} og er {holder}.\n"
            f"{action}\n"
        ),
    )


def payment_text(notice: PaymentNotice) -> RenderedText:
    """What the payment system is told to do (LAS § 36/§ 37 deduction, its end, or a reversal)."""
    case = notice.case
    section = _GROUNDS[case.ground].section
    if notice.kind == "deduction_start":
        until = f"til og med {danish_date(notice.to_day)}" if notice.to_day else "og indtil videre"
        subject = "Registrér fradrag"
        what = (
            f"Registrér fradrag efter lov om aktiv socialpolitik {section} "
            f"fra og med {danish_date(notice.from_day)} {until}."
        )
    elif notice.kind == "deduction_end":
        end = notice.to_day or notice.from_day
        subject = "Afslut fradrag"
        what = f"Fradraget ophører. Sidste dag med fradrag er {danish_date(end)}."
    else:
        subject = "Tilbagefør fradrag"
        what = (
            "Afgørelsen om fradrag er ændret. Tilbagefør fradraget fra og med "
            f"{danish_date(notice.from_day)}, og udbetal det trukne beløb."
        )
    line = _case_line(case.case_id, case.meeting_id, case.ground, case.absence_at)
    return RenderedText(subject=subject, body=f"{what}\n{line}\n")


def alarm_text(alarm: Alarm) -> RenderedText:
    """The 3-month limit for carrying out a deduction is near and the case is not decided."""
    case = alarm.case
    return RenderedText(
        subject="Frist for fradrag nærmer sig",
        body=(
            f"Sagen er ikke afgjort (status: {alarm.stage}). Et eventuelt fradrag skal være gennemført "
            f"senest {danish_date(alarm.limit)}; derefter kan der ikke trækkes for denne udeblivelse.\n"
            f"{_case_line(case.case_id, case.meeting_id, case.ground, case.absence_at)}\n"
        ),
    )
