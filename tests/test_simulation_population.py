"""Generated populations: reproducible by seed, realistic in shape, valid as scenario files, clearly synthetic;
population and what-if policy files fail with a message that names the file and the field."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

import starter
from domain.calendar import WorkingCalendar
from domain.policy import PolicyError, load_policy, snapshot
from simulation.population import DEFAULT_POPULATION_PATH, Generator, Population, PopulationError, load_population
from simulation.scenario import load_scenarios, scenario_line

CONFIG = Path(__file__).resolve().parent.parent / "config"


def lines(seed: int, count: int, population: Population | None = None) -> list[str]:
    generator = Generator(population or Population(), load_policy(), seed)
    return [scenario_line(c) for c in generator.cases(count)]


def test_the_same_seed_gives_the_same_population() -> None:
    assert lines(7, 40) == lines(7, 40)
    assert lines(7, 40) != lines(8, 40)


def test_a_case_does_not_depend_on_how_many_are_drawn() -> None:
    assert set(lines(7, 10)) <= set(lines(7, 25))


def test_the_shipped_population_file_is_the_documented_default() -> None:
    assert load_population(DEFAULT_POPULATION_PATH) == Population()


def test_absences_fall_on_working_days_in_office_hours_within_the_period() -> None:
    policy = load_policy()
    cal = WorkingCalendar(snapshot(policy, first_year=2026))
    generator = Generator(Population(), policy, 3, date(2026, 3, 1), date(2026, 4, 30))
    cases = list(generator.cases(300))
    absences = [c.case["occurred_at"] for c in cases]
    assert absences == sorted(absences)
    for case in cases:
        start = cal.local(datetime.fromisoformat(case.case["occurred_at"]))
        assert date(2026, 3, 1) <= start.date() <= date(2026, 4, 30)
        assert cal.is_working_day(start.date()), start  # never Easter (2-6 April 2026) or a weekend
        assert time(8, 0) <= start.time() < time(15, 0)
    readiness = {c.case["citizen"]["readiness"] for c in cases}
    assert readiness == {"jobparat", "uddannelsesparat", "aktivitetsparat"}
    assert {c.case["citizen"]["digital_post"] for c in cases} == {"registered", "exempt", "never_logged_in"}


def test_personal_data_is_obviously_synthetic() -> None:
    for case in Generator(Population(), load_policy(), 5).cases(50):
        citizen = case.case["citizen"]
        assert citizen["cpr"].startswith("00")  # day 00 exists in no CPR number
        assert citizen["name"].startswith("Syntetisk Borger")
        assert "9999 Simuleringsby" in citizen["address"]
        assert all(r["name"].startswith("Syntetisk") for r in citizen["representatives"])


def test_a_population_round_trips_through_a_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "population.jsonl"
    written = lines(11, 30)
    path.write_text("\n".join(written) + "\n", encoding="utf-8")
    loaded = load_scenarios(path)
    assert [scenario_line(s) for s, _, _ in loaded] == written


@pytest.mark.parametrize(("text", "named"), [
    ("[citizens]\nnemsms = 1.5\n", "citizens.nemsms"),
    ("[answers]\nrate = { jobparat = 0.4 }\n", "answers.rate.uddannelsesparat"),
    ("[ladder]\nat_hom = 0.4\n", "ladder.at_hom"),
    ("[citizens]\nreadiness = { jobparat = 0, uddannelsesparat = 0, aktivitetsparat = 0 }\n", "readiness"),
    ("[answers]\nday = { low = 5, mode = 2, high = 9 }\n", "answers.day"),
    ("[period]\nfrom = 2026-05-01\nto = 2026-04-01\n", "period"),
    ("[citizens\nnemsms = 0.3\n", "not valid TOML"),
])
def test_a_malformed_population_file_is_a_clear_error(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "population.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PopulationError) as err:
        load_population(path)
    assert str(path) in str(err.value) and named in str(err.value)


def test_the_command_reports_a_malformed_population_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    path = tmp_path / "population.toml"
    path.write_text("[ladder]\nphone_reached = -1\n", encoding="utf-8")
    code = starter.main(["simulate", "--generate", "5", "--population", str(path), "--report", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert "ladder.phone_reached" in err and str(path) in err


def test_simulate_refuses_options_that_do_not_go_together(capsys: pytest.CaptureFixture[str]) -> None:
    assert starter.main(["simulate", "examples/scenarios.jsonl", "--generate", "5"]) == 2
    assert starter.main(["simulate", "--generate", "5", "--json", "x.json"]) == 2
    assert "not both" in capsys.readouterr().err


# -- what-if policies -------------------------------------------------------------------------------------------
def test_the_2027_what_if_is_copenhagen_without_sanctions_for_aktivitetsparate() -> None:
    base = load_policy(CONFIG / "policy.toml")
    reform = load_policy(CONFIG / "policy-2027.toml")
    assert reform.sanction_allowed_for == ("jobparat", "uddannelsesparat")
    assert reform.extended_hearing_for == ()
    assert reform.model_copy(update={"name": base.name, "sanction_allowed_for": base.sanction_allowed_for,
                                     "extended_hearing_for": base.extended_hearing_for}) == base
    assert load_policy(CONFIG / "policy-deadline-5.toml").answer_deadline_days == 5


def test_a_what_if_merges_tables_and_refuses_loops(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text((CONFIG / "policy.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "late.toml").write_text('extends = "base.toml"\n[office_hours]\ncloses = 16:00:00\n',
                                        encoding="utf-8")
    late = load_policy(tmp_path / "late.toml")
    assert (late.office_hours.opens, late.office_hours.closes) == (time(8, 0), time(16, 0))
    (tmp_path / "loop.toml").write_text('extends = "loop.toml"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="extends itself"):
        load_policy(tmp_path / "loop.toml")
    (tmp_path / "bad.toml").write_text('extends = "base.toml"\nanswer_deadline_days = 0\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="answer_deadline_days"):
        load_policy(tmp_path / "bad.toml")


# -- the mix follows the file ---------------------------------------------------------------------------------------
def _share(cases: list[dict[str, object]], test: object) -> float:
    assert callable(test)
    return sum(1 for c in cases if test(c)) / len(cases)


def test_the_population_follows_its_files_rates() -> None:
    """4,000 draws land within a few points of every configured share (4 standard errors at most: 0.03)."""
    pop = Population()
    generated = list(Generator(pop, load_policy(), 17).cases(4000))
    citizens: list[dict[str, object]] = [c.case["citizen"] for c in generated]
    total = sum(pop.citizens.readiness.values())
    for readiness, weight in pop.citizens.readiness.items():
        assert _share(citizens, lambda c, r=readiness.value: c["readiness"] == r) == pytest.approx(
            weight / total, abs=0.03), readiness
    assert _share(citizens, lambda c: c["nemsms"]) == pytest.approx(pop.citizens.nemsms, abs=0.03)
    assert _share(citizens, lambda c: c["phone"] is not None) == pytest.approx(pop.citizens.phone, abs=0.03)
    aktivitetsparate = [c for c in citizens if c["readiness"] == "aktivitetsparat"]
    assert _share(aktivitetsparate, lambda c: bool(c["representatives"])) == pytest.approx(
        pop.representatives.share.aktivitetsparat, abs=0.04)
    jobparate = [g for g in generated if g.case["citizen"]["readiness"] == "jobparat"]
    answered = sum(1 for g in jobparate if any(e.type == "citizen_responded" and e.day < 15 for e in g.events))
    assert answered / len(jobparate) == pytest.approx(pop.answers.rate.jobparat, abs=0.04)
    fridays = _share([{"day": datetime.fromisoformat(g.case["occurred_at"]).weekday()} for g in generated],
                     lambda c: c["day"] == 4)
    weights = pop.meetings.weekday_weights
    assert fridays < weights[0] / sum(weights)  # fewer meetings (so fewer absences) on Fridays, as configured


def test_a_population_file_changes_the_mix(tmp_path: Path) -> None:
    path = tmp_path / "population.toml"
    path.write_text("[citizens]\nreadiness = { jobparat = 0, uddannelsesparat = 0, aktivitetsparat = 1 }\n"
                    "nemsms = 1.0\n[representatives]\nshare = { jobparat = 0, uddannelsesparat = 0, "
                    "aktivitetsparat = 0 }\n", encoding="utf-8")
    population = load_population(path)
    assert population.ladder == Population().ladder  # what the file leaves out keeps its default
    citizens = [c.case["citizen"] for c in Generator(population, load_policy(), 3).cases(200)]
    assert {c["readiness"] for c in citizens} == {"aktivitetsparat"}
    assert all(c["nemsms"] and not c["representatives"] for c in citizens)
