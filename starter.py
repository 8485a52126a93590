"""Command line for jobcenter systems, operators, caseworkers and engineers (contract.md: events, simulate,
replay; added: serve, tasks, task)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from domain.events import TaskKind
from runtime.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="starter.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("events", help="read jobcenter events (JSON lines) and start or feed the case workflows")
    ev.add_argument("file", help="a JSON-lines file, or - for standard input")
    srv = sub.add_parser("serve", help="HTTP intake: jobcenter systems POST events to /events (same rules as events)")
    srv.add_argument("--host", help="address to listen on (default MISSED_MEETING_INTAKE_HOST, 127.0.0.1)")
    srv.add_argument("--port", type=int, help="port (default MISSED_MEETING_INTAKE_PORT, 8235)")
    srv.add_argument("--insecure-dev", action="store_true",
                     help="allow running without a bearer token, on a loopback address only (development)")
    sim = sub.add_parser("simulate", help="play scenario cases, or a generated population, on an embedded "
                         "time-skipping server; report waiting times, workload, letters and decisions")
    sim.add_argument("scenario", type=Path, nargs="?", help="scenario file, one case a line")
    sim.add_argument("--json", type=Path, dest="json_out", help="write the timeline JSON here (scenario files)")
    sim.add_argument("--generate", type=int, metavar="N", help="a synthetic population of N missed meetings")
    sim.add_argument("--seed", type=int, default=1, help="the population's seed: same seed, same cases (default 1)")
    sim.add_argument("--from", dest="start", type=date.fromisoformat, metavar="DATE",
                     help="first day of absences (default: the population file's period)")
    sim.add_argument("--to", dest="end", type=date.fromisoformat, metavar="DATE", help="last day of absences")
    sim.add_argument("--population", type=Path, metavar="FILE",
                     help="population parameters (default config/population.toml)")
    sim.add_argument("--policy", type=Path, metavar="FILE", help="the policy to play under (default: the configured "
                     "policy, config/policy.toml); may extend another with `extends = \"policy.toml\"`")
    sim.add_argument("--compare", type=Path, metavar="POLICY",
                     help="play the same cases again under this policy and report both side by side")
    sim.add_argument("--compare-results", type=Path, nargs="+", metavar="RESULTS",
                     help="a report from earlier results (results*.jsonl, or report directories), one or two")
    sim.add_argument("--report", type=Path, metavar="DIR",
                     help="write report.md, charts and results here (default data/reports/<run>)")
    sim.add_argument("--write-scenarios", type=Path, metavar="FILE",
                     help="also write the generated population as a scenario file")
    sim.add_argument("--window", type=int, default=250, help="cases played at once (default 250)")
    sim.add_argument("--sandbox", action="store_true", help="run workflows in the SDK sandbox (slower)")
    sim.add_argument("--ceiling", type=int, default=0, metavar="N",
                     help="afterwards, measure the trivial-workflow ceiling with N workflows, for comparison")
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    rep = sub.add_parser("replay", help="replay workflow histories (exported files, or those a server's visibility "
                         "query finds) against the current code")
    rep.add_argument("paths", nargs="*", type=Path, help="history JSON files, or folders of them")
    rep.add_argument("--query", help="a visibility query instead of files, e.g. "
                     "'WorkflowType=\"MissedMeetingWorkflow\" AND ExecutionStatus=\"Running\"'")
    rep.add_argument("--address", help="Temporal frontend for --query (default TEMPORAL_ADDRESS, localhost:7233)")
    rep.add_argument("--namespace", help="namespace for --query (default TEMPORAL_NAMESPACE, default)")
    rep.add_argument("--limit", type=int, help="replay at most this many of the workflows --query finds")
    _worklist_parsers(sub)
    return parser


def _worklist_parsers(sub: Any) -> None:
    """`tasks` (list) and `task done|assign|claim|release` (act): the caseworkers' worklist."""
    ls = sub.add_parser("tasks", help="list open caseworker tasks (kind, case, due, assignee, how overdue)")
    ls.add_argument("--kind", choices=[k.value for k in TaskKind], help="only tasks of this kind")
    who = ls.add_mutually_exclusive_group()
    who.add_argument("--assignee", help="only tasks assigned to this user id")
    who.add_argument("--mine", action="store_true", help="only tasks assigned to you (--by, or your login)")
    who.add_argument("--unassigned", action="store_true", help="only tasks nobody has taken")
    ls.add_argument("--overdue", action="store_true", help="only tasks past their due time")
    ls.add_argument("--escalated", action="store_true", help="only overdue tasks that have been escalated")
    ls.add_argument("--by", help="your user id for --mine (default MISSED_MEETING_USER, else your login)")
    ls.add_argument("--limit", type=int, help="look at most this many cases")
    ls.add_argument("--json", action="store_true", help="one JSON object a line instead of a table")

    task = sub.add_parser("task", help="act on one open task: done, assign, claim, release")
    act = task.add_subparsers(dest="action", required=True)
    by_help = "your user id (default MISSED_MEETING_USER, else your login)"
    done = act.add_parser("done", help="report a task's outcome (the same update as a task_completed event)")
    done.add_argument("meeting_id")
    done.add_argument("kind", choices=[k.value for k in TaskKind])
    done.add_argument("outcome", help="e.g. reached, no_answer, contact_made, no_contact, sanction, uphold")
    done.add_argument("--note", help="what the caseworker wants on file (journal and decision letter)")
    done.add_argument("--by", help=by_help)
    assign = act.add_parser("assign", help="give an open task to a caseworker")
    assign.add_argument("meeting_id")
    assign.add_argument("kind", choices=[k.value for k in TaskKind])
    assign.add_argument("assignee", help="the caseworker's user id (initials or account, not a name)")
    assign.add_argument("--by", help=by_help)
    for name, text in (("claim", "take an open task yourself"), ("release", "hand a task back to the team")):
        p = act.add_parser(name, help=text)
        p.add_argument("meeting_id")
        p.add_argument("kind", choices=[k.value for k in TaskKind])
        p.add_argument("--by", help=by_help)


async def _events(source: str, settings: Settings) -> int:
    from domain.policy import load_policy
    from intake import run_events
    from runtime.temporal import connect

    client = await connect(settings.temporal_address, settings.temporal_namespace)
    return await run_events(source, client, policy=load_policy(settings.policy_file), out=sys.stdout,
                            err=sys.stderr, task_queue=settings.task_queue)


async def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from intake.serve import serve

    return await serve(settings, host=args.host, port=args.port, insecure_dev=args.insecure_dev)


async def _simulate(args: argparse.Namespace, settings: Settings, argv: list[str]) -> int:
    from simulation.population import PopulationError
    from simulation.results import ResultsError

    problem = _simulate_usage(args)
    if problem:
        print(f"starter.py simulate: {problem}", file=sys.stderr)
        return 2
    try:
        return await _simulate_checked(args, settings, argv)
    except (PopulationError, ResultsError) as exc:
        print(f"starter.py simulate: {exc}", file=sys.stderr)
        return 1


async def _simulate_checked(args: argparse.Namespace, settings: Settings, argv: list[str]) -> int:
    from domain.policy import DEFAULT_POLICY_PATH, load_policy
    from simulation import forecast
    from simulation.runner import simulate

    policy_file = args.policy or settings.policy_file or DEFAULT_POLICY_PATH
    if args.compare_results:
        directory = args.report or forecast.default_report_dir(settings.data_dir, "compare-" + forecast.today_slug())
        return forecast.compare_results(args.compare_results, directory, forecast.command_line(argv))
    if args.generate is None and args.report is None and args.compare is None:
        return await simulate(args.scenario, args.json_out, policy=load_policy(policy_file),
                              data_dir=settings.data_dir)
    policies = [(load_policy(policy_file), _shown(policy_file))]
    if args.compare is not None:
        policies.append((load_policy(args.compare), _shown(args.compare)))
    name = (f"generated-{args.generate}-seed-{args.seed}" if args.generate is not None else args.scenario.stem)
    name += "".join(f"-{p.name}" for p, _ in policies)
    request = forecast.ForecastRequest(
        policies=policies, report_dir=args.report or forecast.default_report_dir(settings.data_dir, name),
        outbox_dir=settings.data_dir / "simulation",
        generate=args.generate, seed=args.seed, start=args.start, end=args.end, population_file=args.population,
        scenario=args.scenario, write_scenarios=args.write_scenarios, window=args.window, sandbox=args.sandbox,
        quiet=args.quiet, ceiling=args.ceiling, command=forecast.command_line(argv),
    )
    return await forecast.run_forecast(request)


def _simulate_usage(args: argparse.Namespace) -> str | None:
    """Why these `simulate` options do not go together, or None."""
    if args.compare_results:
        if args.scenario or args.generate is not None or args.compare:
            return "--compare-results reads earlier results: give no scenario file, --generate or --compare"
        return "give one or two results files to --compare-results" if len(args.compare_results) > 2 else None
    if (args.scenario is None) == (args.generate is None):
        return "give a scenario file or --generate N (not both)"
    if args.generate is not None and args.generate < 1:
        return "--generate needs at least 1 case"
    if args.json_out and (args.generate is not None or args.report or args.compare):
        return "--json writes the timeline of a scenario file; reports go to --report DIR"
    if args.write_scenarios and args.generate is None:
        return "--write-scenarios writes a generated population: add --generate N"
    if args.window < 1:
        return "--window needs at least 1"
    return None


def _shown(path: Path) -> str:
    """A path as the report shows it: relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


async def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from temporalio.service import RPCError

    from replay.replayer import run_replay, run_replay_query
    from runtime.temporal import connect

    if bool(args.paths) == (args.query is not None):
        print("starter.py replay: give history files (or folders), or --query, not both", file=sys.stderr)
        return 2
    if args.query is None:
        return await run_replay(args.paths)
    address = args.address or settings.temporal_address
    namespace = args.namespace or settings.temporal_namespace
    try:
        client = await connect(address, namespace)
    except RuntimeError as exc:  # the SDK's "Failed client connect"
        print(f"starter.py replay: cannot reach Temporal at {address}: {exc}", file=sys.stderr)
        return 1
    try:
        return await run_replay_query(client, args.query, limit=args.limit)
    except RPCError as exc:  # a malformed query, an unknown namespace, ...
        print(f"starter.py replay: {address} (namespace {namespace}): {exc.message}", file=sys.stderr)
        return 1


def _user(by: str | None) -> str:
    return by or os.environ.get("MISSED_MEETING_USER") or getpass.getuser()


async def _tasks(args: argparse.Namespace, settings: Settings) -> int:
    import json
    from datetime import UTC, datetime

    from runtime.temporal import connect
    from worklist.listing import TaskFilter, open_tasks, render

    flt = TaskFilter(kind=args.kind, assignee=_user(args.by) if args.mine else args.assignee,
                     unassigned=args.unassigned, overdue=args.overdue, escalated=args.escalated)
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    rows = await open_tasks(client, flt, now=datetime.now(UTC), limit=args.limit)
    if args.json:
        for row in rows:
            print(json.dumps(row.as_json(), ensure_ascii=False))
    else:
        print(render(rows))
    return 0


async def _task(args: argparse.Namespace, settings: Settings) -> int:
    from domain.policy import load_policy
    from intake.gateway import CaseGateway
    from runtime.temporal import connect
    from worklist.actions import ActionError, TaskAction, describe

    action = TaskAction(meeting_id=args.meeting_id, kind=args.kind, by=_user(args.by))
    try:
        if args.action == "done":
            event: Any = action.completion(args.outcome, args.note)
        elif args.action == "release":
            event = action.assignment(None)
        else:
            event = action.assignment(args.assignee if args.action == "assign" else action.by)
    except ActionError as exc:
        print(f"starter.py task {args.action}: {exc}", file=sys.stderr)
        return 2
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    gateway = CaseGateway(client, load_policy(settings.policy_file), task_queue=settings.task_queue)
    outcome = await gateway.deliver(event)
    print(describe(outcome, event), file=sys.stdout if outcome.kind == "delivered" else sys.stderr)
    return 0 if outcome.kind == "delivered" else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from domain.policy import PolicyError
    from intake.gateway import IntakeHalted
    from intake.serve import ServeError
    from runtime.keys import KeyConfigError
    from runtime.logging import configure_logging
    from runtime.settings import SettingsError
    from simulation.scenario import ScenarioError

    configure_logging()
    try:
        settings = Settings.from_env()
        if args.command == "events":
            return asyncio.run(_events(args.file, settings))
        if args.command == "serve":
            return asyncio.run(_serve(args, settings))
        if args.command == "tasks":
            return asyncio.run(_tasks(args, settings))
        if args.command == "task":
            return asyncio.run(_task(args, settings))
        if args.command == "simulate":
            return asyncio.run(_simulate(args, settings, sys.argv[1:] if argv is None else argv))
        return asyncio.run(_replay(args, settings))
    except (KeyConfigError, PolicyError, ScenarioError, SettingsError, ServeError, IntakeHalted) as exc:
        print(f"starter.py {args.command}: {exc}", file=sys.stderr)
        return 1


def _exit(code: int) -> None:
    """Leave without interpreter teardown: the SDK's native threads can abort a normal exit (seen: code 134)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
