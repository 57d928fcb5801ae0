"""Readers of the deployment files (deploy/) for the tests/test_deploy_*.py modules: the Kubernetes objects, the
compose file, the Dockerfile, and what helpdesk/settings.py reads.

Nothing here builds an image or talks to a cluster: the files are parsed and checked against what the code really
reads (helpdesk/settings.py), runs (entry points, Celery queues, URLs) and defaults to (the model profile), and
against each other (names, ports, images). A helper module, not a plugin.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.support.environment import ROOT

DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"
K8S = DEPLOY / "k8s"
ADAPTER_VALUES = K8S / "monitoring" / "prometheus-adapter-values.yaml"
SETTINGS = ROOT / "helpdesk" / "settings.py"

# Images that are not ours; every other container must run the helpdesk image.
THIRD_PARTY_IMAGES = ("ollama/ollama:", "postgres:", "redis:", "edoburu/pgbouncer:")
ENV_HELPERS = {"env_str", "env_int", "env_float", "env_bool", "env_list", "env_periods"}
POD_KINDS = {"Deployment", "StatefulSet", "Job", "DaemonSet"}


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


@cache
def k8s_objects() -> tuple[dict, ...]:
    """Every Kubernetes object under deploy/k8s (Helm values files have no `kind` and are left out)."""
    return tuple(doc for path in sorted(K8S.rglob("*.yaml")) for doc in load_all(path) if "kind" in doc)


def k8s_get(kind: str, name: str) -> dict | None:
    return next((o for o in k8s_objects() if o["kind"] == kind and o["metadata"]["name"] == name), None)


def k8s_workloads() -> Iterator[dict]:
    return (o for o in k8s_objects() if o["kind"] in POD_KINDS)


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def k8s_containers() -> Iterator[tuple[dict, dict]]:
    """(workload, container) for every container and init container."""
    for workload in k8s_workloads():
        spec = pod_spec(workload)
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            yield workload, container


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def compose_services() -> dict[str, dict]:
    return compose()["services"]


@cache
def dockerfile_instructions() -> tuple[tuple[str, str], ...]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = (line.strip() for line in text.splitlines())
    return tuple(
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    )


# --- What the code reads ---------------------------------------------------------------------------------------


@cache
def settings_env() -> dict[str, Any]:
    """Every environment variable helpdesk/settings.py reads, with its literal default where it has one."""
    found: dict[str, Any] = {}
    for node in ast.walk(ast.parse(SETTINGS.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args:
            name_arg = node.args[0]
            func = ast.unparse(node.func)
            if (func in ENV_HELPERS or func in {"os.environ.get", "os.getenv"}) and isinstance(name_arg, ast.Constant):
                default = node.args[1] if len(node.args) > 1 else None
                found.setdefault(name_arg.value, default.value if isinstance(default, ast.Constant) else None)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            if isinstance(node.slice, ast.Constant):
                found.setdefault(node.slice.value, None)
    return found


_COMPOSE_VAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(text: str) -> str:
    """Compose's ${VAR:-default} interpolation with an empty host environment: defaults apply, and a
    required variable (${VAR:?msg}) stands for itself as <VAR>, so two uses of it compare equal."""

    def replace(match: re.Match) -> str:
        if match.group("escaped"):
            return "$"
        expression = match.group("braced") or match.group("bare")
        name = re.match(r"[A-Za-z_][A-Za-z0-9_]*", expression).group(0)
        rest = expression[len(name):]
        if rest.startswith((":-", "-")):
            return rest.split("-", 1)[1]
        if rest.startswith((":?", "?")):
            return f"<{name}>"
        return ""

    return _COMPOSE_VAR.sub(replace, text)


def is_third_party(image: str) -> bool:
    return image.startswith(THIRD_PARTY_IMAGES)


def compose_helpdesk_services() -> dict[str, dict]:
    return {name: s for name, s in compose_services().items() if not is_third_party(s.get("image", ""))}


def k8s_helpdesk_containers() -> Iterator[tuple[dict, dict]]:
    return ((w, c) for w, c in k8s_containers() if not is_third_party(c["image"]))


def compose_env(service: dict) -> dict[str, str]:
    """A service's environment as written (before interpolation)."""
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {name: "" if value is None else str(value) for name, value in environment.items()}


def k8s_env(container: dict) -> dict[str, str | None]:
    """A container's environment: envFrom ConfigMaps and Secrets, then env (None where set from a field)."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update((k8s_get("ConfigMap", source["configMapRef"]["name"]) or {}).get("data", {}))
        if "secretRef" in source:
            env.update((k8s_get("Secret", source["secretRef"]["name"]) or {}).get("stringData", {}))
    for item in container.get("env", []):
        ref = item.get("valueFrom", {}).get("configMapKeyRef")
        if ref:
            env[item["name"]] = (k8s_get("ConfigMap", ref["name"]) or {}).get("data", {}).get(ref["key"])
        else:
            env[item["name"]] = item.get("value")
    return env


def compose_argv(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def k8s_argv(container: dict) -> list[str]:
    return [*container.get("command", []), *container.get("args", [])]


def option(argv: list[str], *flags: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg in flags and i + 1 < len(argv):
            return argv[i + 1]
    return None


def url_host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port
