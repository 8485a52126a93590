"""docker-compose.yml, .env and the Dockerfile, checked without a Docker engine (none runs on these machines).

What `docker compose up` would trip over first, found statically: a variable with no value, a file that is
not there, two services on one host port, a dependency on a service that does not exist or with a condition
that can never hold, a command that is not the one the README documents, a secret baked into the image.
The namespace set-up script is also run for real against the Temporal dev server from PyPI.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from runtime.binaries import temporal_cli_path
from runtime.settings import Settings
from tests.processes import ROOT, free_port
from workflows import search_attributes as sa

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_FILE = ROOT / ".env"
DOCKERFILE = ROOT / "Dockerfile"
README = ROOT / "README.md"
NAMESPACE_SCRIPT = ROOT / "deploy" / "temporal" / "setup-namespace.sh"
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|PWD|TOKEN|SECRET|CREDENTIAL|PRIVATE|API_?KEY|KEYS?\b|_KEY_|CERT)", re.I)
VARIABLE = re.compile(r"\$\{(?P<braced>[^}]*)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)")
BRACED = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.S)
JOB_IMAGES = ("temporalio/admin-tools:",)
"""Images of one-shot jobs: what depends on them must wait for them to complete, not to start."""


def env_file() -> dict[str, str]:
    values = {}
    for number, line in enumerate(ENV_FILE.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f".env line {number} is not NAME=value"
            values[name] = value
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME-default} and $$ (a literal $)."""

    def one(match: re.Match[str]) -> str:
        if match["bare"]:
            return env[match["bare"]]
        parts = BRACED.match(match["braced"])
        assert parts, f"malformed ${{{match['braced']}}}"
        name, op, arg = parts["name"], parts["op"], parts["arg"]
        if op in (":-", "-") and (name not in env or (op == ":-" and not env[name])):
            return interpolate(arg, env)
        return env[name]

    return "$".join(VARIABLE.sub(one, piece) for piece in text.split("$$"))


def resolve(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    return node


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    resolved: dict[str, Any] = resolve(document, env_file())
    return resolved


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def command_of(service: dict[str, Any]) -> str:
    command = service.get("command", [])
    return command if isinstance(command, str) else shlex.join(command)


def env_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {key: str(value) for key, value in environment.items()}


def seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration))


# -- variables and versions --------------------------------------------------------------------------------
def test_every_variable_is_in_env_or_has_a_default() -> None:
    defined = env_file()
    text = COMPOSE_FILE.read_text(encoding="utf-8").replace("$$", "")
    undefined = []
    for match in VARIABLE.finditer(text):
        if match["bare"]:
            name, op = match["bare"], None
        else:
            parts = BRACED.match(match["braced"])
            assert parts, f"malformed variable ${{{match['braced']}}}"
            name, op = parts["name"], parts["op"]
        if name not in defined and op not in (":-", "-"):
            undefined.append(name)
    assert not undefined, f"used in docker-compose.yml, but neither in .env nor given a default: {undefined}"
    assert "${" not in repr(resolve(yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8")), defined))


def test_images_are_pinned_and_env_holds_no_secret(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        image = service["image"]
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
        assert tag and tag != "latest", f"{name}: image {image} is not pinned to a version"
    for key, value in env_file().items():
        if key.endswith("_VERSION"):
            assert re.fullmatch(r"\d+(\.\d+)*", value), f".env {key}={value!r} is not an exact version"
        assert not (SECRET_NAME.search(key) and value), f".env must not hold secrets ({key})"


# -- files -------------------------------------------------------------------------------------------------
def test_referenced_files_exist(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        if "build" in service:
            context = ROOT / service["build"]["context"]
            assert (context / service["build"].get("dockerfile", "Dockerfile")).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: mounted {source} does not exist"
        for secret in service.get("secrets", []):
            assert (secret if isinstance(secret, str) else secret["source"]) in compose["secrets"], name
        for config in service.get("configs", []):
            assert config["source"] in compose["configs"], name
        dynamic = env_of(service).get("DYNAMIC_CONFIG_FILE_PATH")
        if dynamic:
            mounted = {target: source for source, target, *_ in (v.split(":") for v in service["volumes"])}
            folder = mounted["/etc/temporal/config/dynamicconfig"]
            assert (ROOT / folder / Path(dynamic).name).is_file(), f"{name}: {dynamic} is not in {folder}"
    for config in compose["configs"].values():
        assert (ROOT / config["file"]).is_file()


def test_secrets_are_templated_and_kept_out_of_git_and_the_image(compose: dict[str, Any]) -> None:
    gitignore = (ROOT / "deploy" / "secrets" / ".gitignore").read_text(encoding="utf-8").splitlines()
    ignored = [line for line in gitignore if line.strip() and not line.startswith("#")]
    assert ignored[0] == "*" and "!*.example" in ignored
    for name, secret in compose["secrets"].items():
        path = ROOT / secret["file"]
        assert path.parent == ROOT / "deploy" / "secrets", f"secret {name} lives outside deploy/secrets"
        assert path.with_name(path.name + ".example").is_file(), f"secret {name} has no .example template"
    assert "deploy/secrets" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    listed = subprocess.run(["git", "ls-files", "deploy/secrets"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode == 0:  # in a git checkout: no real secret file is tracked
        assert all(f.endswith((".example", ".gitignore", "README.md")) for f in listed.stdout.split())


# -- ports, dependencies, commands -------------------------------------------------------------------------
def test_published_ports_are_unique(compose: dict[str, Any]) -> None:
    published: dict[int, str] = {}
    for name, service in services(compose).items():
        for port in service.get("ports", []):
            host_port = int(str(port).rsplit(":", 2)[-2])
            assert host_port not in published, f"{name} and {published[host_port]} both publish {host_port}"
            published[host_port] = name
    assert set(published.values()) >= {"temporal", "temporal-ui", "codec-server", "intake"}
    assert "ports" not in services(compose)["worker"], "replicated workers cannot share a host port"


def test_depends_on_targets_exist_with_conditions_that_can_hold(compose: dict[str, Any]) -> None:
    all_services = services(compose)
    for name, service in all_services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions (the long form)"
        for target, spec in depends.items():
            assert target in all_services, f"{name} depends on unknown service {target}"
            other = all_services[target]
            if other["image"].startswith(JOB_IMAGES):
                expected = "service_completed_successfully"
            elif "healthcheck" in other:
                expected = "service_healthy"
            else:
                expected = "service_started"
            assert spec.get("condition") == expected, f"{name} -> {target}: condition should be {expected}"

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"dependency cycle: {' -> '.join((*path, name))}"
        for target in all_services[name].get("depends_on", {}):
            visit(target, (*path, name))

    for name in all_services:
        visit(name, ())


def test_commands_are_the_documented_ones(compose: dict[str, Any]) -> None:
    readme = README.read_text(encoding="utf-8")
    expected = {"worker": "python worker.py", "intake": "python starter.py serve",
                "codec-server": "python -m runtime.codec_server"}
    all_services = services(compose)
    for name, command in expected.items():
        assert command_of(all_services[name]) == command
        assert f"`{command}`" in readme, f"the README does not document `{command}`"
    assert "container_name" not in all_services["worker"]
    assert all_services["worker"]["deploy"]["replicas"] >= 2


def test_the_setup_jobs_do_what_temporal_needs(compose: dict[str, Any]) -> None:
    all_services = services(compose)
    schema_job, namespace_job = all_services["temporal-schema"], all_services["temporal-namespace"]
    assert schema_job["image"].startswith("temporalio/admin-tools:")
    assert all_services["temporal"]["image"].startswith("temporalio/server:")
    after_schema = {"temporal-schema": {"condition": "service_completed_successfully"}}
    assert all_services["temporal"]["depends_on"] == after_schema
    script = (ROOT / "deploy" / "temporal" / "setup-schema.sh").read_text(encoding="utf-8")
    for step in ("create", "setup-schema -v 0.0", "update-schema -d"):
        assert f'temporal-sql-tool --db "$1" {step}' in script
    assert "migrate temporal temporal" in script and "migrate temporal_visibility visibility" in script
    assert namespace_job["entrypoint"][-1] == "/setup/setup-namespace.sh"
    assert env_of(namespace_job)["TEMPORAL_NAMESPACE"] == env_of(all_services["worker"])["TEMPORAL_NAMESPACE"]


def test_the_app_services_are_configured_through_known_settings(compose: dict[str, Any]) -> None:
    known = {field.alias for field in Settings.model_fields.values()}
    known |= {"MISSED_MEETING_PAYLOAD_KEY_FILE", "MISSED_MEETING_PAYLOAD_KEYS"}
    for source in ("activities/channels.py", "activities/sf1601.py"):
        known |= set(re.findall(r"MISSED_MEETING_[A-Z0-9_]+", (ROOT / source).read_text(encoding="utf-8")))
    all_services = services(compose)
    for name in ("worker", "intake", "codec-server"):
        service = all_services[name]
        env = env_of(service)
        unknown = {k for k in env if k.startswith("MISSED_MEETING_")} - known
        assert not unknown, f"{name}: no setting reads {sorted(unknown)}"
        secrets = set(service["secrets"])
        for key, value in env.items():
            if value.startswith("/run/secrets/"):
                assert value.removeprefix("/run/secrets/") in secrets, f"{name}: {key} names an unmounted secret"
            elif SECRET_NAME.search(key):
                assert not value, f"{name}: {key} holds a literal value; mount it as a secret instead"
    worker = all_services["worker"]
    grace = float(env_of(worker)["MISSED_MEETING_SHUTDOWN_GRACE_SECONDS"])
    assert seconds(worker["stop_grace_period"]) > grace, "SIGKILL would come before the worker has drained"
    assert env_of(worker)["MISSED_MEETING_METRICS_ADDRESS"].startswith("0.0.0.0:")
    assert env_of(all_services["codec-server"])["MISSED_MEETING_CODEC_HOST"] == "0.0.0.0"
    assert env_of(all_services["intake"])["MISSED_MEETING_INTAKE_HOST"] == "0.0.0.0"
    codec_port = int(all_services["codec-server"]["ports"][0].rsplit(":", 2)[-2])
    assert env_of(all_services["temporal-ui"])["TEMPORAL_CODEC_ENDPOINT"] == f"http://localhost:{codec_port}"
    assert (f"http://localhost:{all_services['temporal-ui']['ports'][0].rsplit(':', 2)[-2]}"
            in env_of(all_services["codec-server"])["MISSED_MEETING_CODEC_UI_ORIGINS"].split(","))


# -- the Dockerfile --------------------------------------------------------------------------------------
def instructions() -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        logical += line.rstrip()
        if logical.endswith("\\"):
            logical = logical[:-1] + " "
            continue
        keyword, _, rest = logical.strip().partition(" ")
        yield keyword.upper(), rest.strip()
        logical = ""


def test_dockerfile_runs_as_non_root_without_secrets() -> None:
    steps = list(instructions())
    assert {args.split()[0] for kind, args in steps if kind == "FROM"} == {"python:3.11-slim"}
    last_from = max(i for i, (kind, _) in enumerate(steps) if kind == "FROM")
    users = [args for kind, args in steps[last_from:] if kind == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the final image must run as a non-root user"
    for kind, args in steps:
        if kind in ("ENV", "ARG"):
            for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)(?:=(\"[^\"]*\"|\S*))?", args):
                assert not (SECRET_NAME.search(name) and value), f"{kind} {name} bakes a secret-looking value"
        if kind == "COPY":
            sources = [s for s in args.split()[:-1] if not s.startswith("--")]
            for source in sources:
                assert not source.startswith(("data", "deploy/secrets", ".venv", ".")), f"COPY {source}"
                if "--from=" not in args:
                    assert (ROOT / source).exists(), f"COPY {source}: no such file"
    assert steps[-1] == ("CMD", '["python", "worker.py"]')


def test_dockerfile_copies_every_package_the_project_has() -> None:
    include = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages = {name.rstrip("*") for name in include["packages"]["find"]["include"]}
    copied = {args.split()[0] for kind, args in instructions() if kind == "COPY" and "--from=" not in args}
    assert packages <= copied, f"not in the image: {sorted(packages - copied)}"
    assert {"worker.py", "starter.py", "config", "pyproject.toml"} <= copied | {
        word for kind, args in instructions() if kind == "COPY" for word in args.split()
    }


# -- the set-up scripts ----------------------------------------------------------------------------------
def test_scripts_parse() -> None:
    for script in sorted((ROOT / "deploy" / "temporal").glob("*.sh")):
        assert script.read_text(encoding="utf-8").startswith("#!/bin/sh"), script
        subprocess.run(["sh", "-n", str(script)], check=True)
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / "deploy-secrets")], check=True)


def test_the_namespace_script_lists_the_workflow_search_attributes() -> None:
    listed = re.search(r'^SEARCH_ATTRIBUTES="([^"]+)"', NAMESPACE_SCRIPT.read_text(encoding="utf-8"), re.M)
    assert listed
    in_script = dict(pair.split("=") for pair in listed[1].split())
    in_code = {key.name: key.indexed_value_type.name.title().replace("_", "") for key in sa.ALL}
    assert in_script == in_code


async def test_the_namespace_script_sets_up_a_real_server(tmp_path: Path) -> None:
    port, metrics = free_port(), free_port()
    cli = temporal_cli_path()
    server = await asyncio.create_subprocess_exec(
        str(cli), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
        "--http-port", str(free_port()), "--metrics-port", str(metrics), "--db-filename", str(tmp_path / "t.sqlite"),
        "--log-level", "error", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    env = {"PATH": f"{cli.parent}:/usr/bin:/bin", "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
           "TEMPORAL_NAMESPACE": "jobcenter", "NAMESPACE_RETENTION": "3d"}
    try:
        for _ in range(2):  # the second run finds everything there and changes nothing
            run = await asyncio.create_subprocess_exec("sh", str(NAMESPACE_SCRIPT), env=env,
                                                       stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            output, _ = await asyncio.wait_for(run.communicate(), 180)
            assert run.returncode == 0, output.decode()
        assert b"search attribute CaseStage exists" in output
        client = await Client.connect(f"127.0.0.1:{port}", namespace="jobcenter")
        request = ListSearchAttributesRequest(namespace="jobcenter")
        listed = await client.operator_service.list_search_attributes(request)
        for key in sa.ALL:
            assert listed.custom_attributes[key.name] == IndexedValueType.ValueType(key.indexed_value_type.value)
    finally:
        server.terminate()
        await server.wait()
