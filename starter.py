"""Command line for jobcenter systems, operators and engineers (contract.md: events, simulate, replay)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from runtime.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="starter.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("events", help="read jobcenter events (JSON lines) and start or feed the case workflows")
    ev.add_argument("file", help="a JSON-lines file, or - for standard input")
    sim = sub.add_parser("simulate", help="play scenario cases on an embedded time-skipping server")
    sim.add_argument("scenario", type=Path, help="scenario file, one case a line")
    sim.add_argument("--json", type=Path, dest="json_out", help="write the timeline JSON here")
    rep = sub.add_parser("replay", help="replay exported workflow histories against the current code")
    rep.add_argument("paths", nargs="+", type=Path, help="history JSON files, or folders of them")
    return parser


async def _events(source: str, settings: Settings) -> int:
    from domain.policy import load_policy
    from intake import run_events
    from runtime.temporal import connect

    client = await connect(settings.temporal_address, settings.temporal_namespace)
    return await run_events(source, client, policy=load_policy(settings.policy_file), out=sys.stdout,
                            err=sys.stderr, task_queue=settings.task_queue)


async def _simulate(scenario: Path, json_out: Path | None, settings: Settings) -> int:
    from domain.policy import load_policy
    from simulation.runner import simulate

    return await simulate(scenario, json_out, policy=load_policy(settings.policy_file), data_dir=settings.data_dir)


async def _replay(paths: list[Path]) -> int:
    from replay.replayer import run_replay

    return await run_replay(paths)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    from domain.policy import PolicyError
    from runtime.keys import KeyConfigError
    from runtime.logging import configure_logging
    from simulation.scenario import ScenarioError

    configure_logging()
    try:
        if args.command == "events":
            return asyncio.run(_events(args.file, settings))
        if args.command == "simulate":
            return asyncio.run(_simulate(args.scenario, args.json_out, settings))
        return asyncio.run(_replay(args.paths))
    except (KeyConfigError, PolicyError, ScenarioError) as exc:
        print(f"starter.py {args.command}: {exc}", file=sys.stderr)
        return 1


def _exit(code: int) -> None:
    """Leave without interpreter teardown: the SDK's native threads can abort a normal exit (seen: code 134)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
