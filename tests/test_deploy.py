"""The deployment files (deploy/) agree with the code and with each other.

Nothing here builds an image or talks to a cluster: the files are parsed and checked against what the code
really reads (helpdesk/settings.py), runs (entry points, Celery queues, URLs) and defaults to (the model
profile), and against each other (names, ports, images).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.support.environment import require

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"
MODELFILE = DEPLOY / "ollama" / "Modelfile"
K8S = DEPLOY / "k8s"
ADAPTER_VALUES = K8S / "monitoring" / "prometheus-adapter-values.yaml"
SETTINGS = ROOT / "helpdesk" / "settings.py"

# Images that are not ours; every other container must run the helpdesk image.
THIRD_PARTY_IMAGES = ("ollama/ollama:", "postgres:", "redis:")
ENV_HELPERS = {"env_str", "env_int", "env_float", "env_bool", "env_list"}
# Set by the Dockerfile for Python and pip themselves, not for the helpdesk's settings.
PYTHON_RUNTIME_ENV = {
    "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK",
}
POD_KINDS = {"Deployment", "StatefulSet", "Job", "DaemonSet"}


# --- Reading the files ----------------------------------------------------------------------------------------


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yml", ".yaml"})


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


def task_queue_names() -> set[str]:
    from helpdesk.celery import app

    return {queue.name for queue in app.conf.task_queues}


# --- Compose interpolation and Kubernetes $(VAR) expansion -------------------------------------------------------

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


def compose_vars(text: str) -> set[str]:
    """Host variables a compose value interpolates."""
    return {
        re.match(r"[A-Za-z_][A-Za-z0-9_]*", m.group("braced") or m.group("bare")).group(0)
        for m in _COMPOSE_VAR.finditer(text)
        if not m.group("escaped")
    }


def k8s_expand(text: str, env: dict[str, str | None]) -> str:
    return re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1)) or m.group(0), text)


# --- Containers of the helpdesk image -----------------------------------------------------------------------------


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


def entry_point(argv: list[str]) -> str:
    """What a helpdesk container runs ("web", "worker", "beat" or "manage"); fails on anything else."""
    from django.core.management import get_commands

    program = argv[0] if argv else ""
    if program == "python" and argv[1:3] == ["-m", "helpdesk.webserver"]:
        # Daphne, with its options from the settings (helpdesk/webserver.py): the command line gives the address.
        assert set(argv[3::2]) <= {"-b", "--bind", "-p", "--port"}, f"web options belong in the settings: {argv}"
        module, _, attribute = importlib.import_module("helpdesk.webserver").APPLICATION.partition(":")
        assert hasattr(importlib.import_module(module), attribute)
        return "web"
    if program == "celery":
        assert argv[1:3] == ["-A", "helpdesk"], f"celery must load the helpdesk app: {argv}"
        if argv[3] == "worker":
            queues = (option(argv, "-Q", "--queues") or "").split(",")
            assert set(queues) <= task_queue_names(), f"{queues} are not all among {task_queue_names()}"
            # Celery's time limits only work on prefork (or gevent) pools.
            assert option(argv, "-P", "--pool") in (None, "prefork", "gevent"), argv
            return "worker"
        assert argv[3] == "beat", f"unknown celery command {argv[3]}"
        return "beat"
    if program == "python" and argv[1:2] == ["manage.py"]:
        assert argv[2] in get_commands(), f"manage.py has no command {argv[2]}"
        return "manage"
    raise AssertionError(f"not an entry point of the helpdesk: {argv}")


def helpdesk_image() -> str:
    images = {s["image"] for s in compose_services().values() if "build" in s}
    assert len(images) == 1, f"compose builds the helpdesk image under several names: {images}"
    return images.pop()


def url_host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port


# --- Tests: files --------------------------------------------------------------------------------------------------


def test_every_yaml_file_parses() -> None:
    files = yaml_files()
    assert COMPOSE in files and ADAPTER_VALUES in files and len(list(K8S.glob("*.yaml"))) >= 5
    for path in files:
        docs = load_all(path)
        assert docs, f"{path} holds no document"
        assert all(isinstance(doc, dict) for doc in docs), f"{path} holds something other than mappings"


def test_kubernetes_objects_are_all_in_the_helpdesk_namespace() -> None:
    namespaces = [o["metadata"]["name"] for o in k8s_objects() if o["kind"] == "Namespace"]
    assert len(namespaces) == 1
    for obj in k8s_objects():
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == namespaces[0], f"{obj['kind']}/{obj['metadata']['name']}"


# --- Tests: environment -----------------------------------------------------------------------------------------


def test_every_variable_given_to_a_helpdesk_container_is_read_by_settings() -> None:
    known = set(settings_env())
    given: dict[str, set[str]] = {}
    for name, service in compose_helpdesk_services().items():
        given[f"compose {name}"] = set(compose_env(service))
    for workload, container in k8s_helpdesk_containers():
        given[f"{workload['metadata']['name']}/{container['name']}"] = set(k8s_env(container))
    assert given, "no helpdesk container found"
    unknown = {where: sorted(names - known) for where, names in given.items() if names - known}
    assert not unknown, f"variables that helpdesk/settings.py does not read: {unknown}"


def test_dockerfile_sets_only_settings_or_python_variables() -> None:
    names = set()
    for instruction, rest in dockerfile_instructions():
        if instruction == "ENV":
            names |= {pair.split("=", 1)[0] for pair in shlex.split(rest)}
    assert names <= set(settings_env()) | PYTHON_RUNTIME_ENV, names - set(settings_env()) - PYTHON_RUNTIME_ENV


def test_deployments_run_in_production_mode() -> None:
    wanted = {"DEBUG": "false", "LOG_FORMAT": "json", "LOAD_DEMO_KNOWLEDGE": "false"}
    for name, service in compose_helpdesk_services().items():
        env = {k: interpolate(v) for k, v in compose_env(service).items()}
        assert {k: env.get(k) for k in wanted} == wanted, f"compose {name}"
    for workload, container in k8s_helpdesk_containers():
        env = k8s_env(container)
        assert {k: env.get(k) for k in wanted} == wanted, f"{workload['metadata']['name']}/{container['name']}"


def test_secrets_are_placeholders_or_required_from_the_operator() -> None:
    secrets = [o for o in k8s_objects() if o["kind"] == "Secret"]
    assert secrets
    for secret in secrets:
        assert "data" not in secret, "write placeholders as stringData"
        for key, value in secret["stringData"].items():
            assert value == "" or "REPLACE_ME" in value, f"Secret {key} looks like a real value"
    env = compose_env(compose_services()["web"])
    for name in ("SECRET_KEY", "DATABASE_URL"):
        interpolated = interpolate(env[name])
        assert re.search(r"<[A-Z_]+>", interpolated), f"compose {name} must come from deploy/.env, without default"


# --- Tests: what runs -----------------------------------------------------------------------------------------------


def test_every_helpdesk_container_runs_a_real_entry_point() -> None:
    roles = {name: entry_point(compose_argv(s)) for name, s in compose_helpdesk_services().items()}
    assert set(roles.values()) == {"web", "worker", "beat", "manage"}
    roles = {c["name"] + "@" + w["metadata"]["name"]: entry_point(k8s_argv(c)) for w, c in k8s_helpdesk_containers()}
    assert set(roles.values()) == {"web", "worker", "beat", "manage"}


def test_every_queue_has_workers_in_compose_and_kubernetes() -> None:
    compose_queues = {
        queue
        for service in compose_helpdesk_services().values()
        if compose_argv(service)[:4] == ["celery", "-A", "helpdesk", "worker"]
        for queue in option(compose_argv(service), "-Q").split(",")
    }
    k8s_queues = {
        queue
        for _, container in k8s_helpdesk_containers()
        if k8s_argv(container)[:4] == ["celery", "-A", "helpdesk", "worker"]
        for queue in option(k8s_argv(container), "-Q").split(",")
    }
    assert compose_queues == task_queue_names()
    assert k8s_queues == task_queue_names()


def test_worker_concurrency_is_the_setting_the_container_is_given() -> None:
    checked = 0
    for name, service in compose_helpdesk_services().items():
        argv = compose_argv(service)
        if argv[3] == "worker":
            (variable,) = compose_vars(option(argv, "-c"))
            assert variable in settings_env() and variable.endswith("_CONCURRENCY"), name
            assert interpolate(option(argv, "-c")) == interpolate(compose_env(service)[variable]), name
            checked += 1
    for workload, container in k8s_helpdesk_containers():
        argv = k8s_argv(container)
        if argv[3:4] == ["worker"]:
            (variable,) = re.findall(r"\$\((\w+)\)", option(argv, "-c"))
            assert variable in settings_env() and variable.endswith("_CONCURRENCY"), workload["metadata"]["name"]
            assert k8s_expand(option(argv, "-c"), k8s_env(container)).isdigit(), workload["metadata"]["name"]
            checked += 1
    assert checked == 4


def test_exactly_one_beat() -> None:
    beats = [s for s in compose_helpdesk_services().values() if compose_argv(s)[3:4] == ["beat"]]
    assert len(beats) == 1 and beats[0].get("deploy", {}).get("replicas", 1) == 1
    beats = [w for w, c in k8s_helpdesk_containers() if k8s_argv(c)[3:4] == ["beat"]]
    assert len(beats) == 1
    (beat,) = beats
    assert beat["spec"].get("replicas", 1) == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    scaled = {o["spec"]["scaleTargetRef"]["name"] for o in k8s_objects() if o["kind"] == "HorizontalPodAutoscaler"}
    assert beat["metadata"]["name"] not in scaled


def test_every_web_server_takes_its_timeouts_from_the_settings_and_trusts_no_proxy_header() -> None:
    # Daphne's options come from helpdesk/webserver.py (the settings), so no deployment can differ; and none
    # passes --proxy-headers, with which Daphne believes X-Forwarded-For from anyone.
    cmd = json.loads(next(rest for instruction, rest in dockerfile_instructions() if instruction == "CMD"))
    argvs = [cmd, *(compose_argv(s) for s in compose_helpdesk_services().values())]
    argvs += [k8s_argv(c) for _, c in k8s_helpdesk_containers()]
    webs = [argv for argv in argvs if argv[:1] == ["daphne"] or argv[1:3] == ["-m", "helpdesk.webserver"]]
    assert len(webs) == 3
    for argv in webs:
        assert entry_point(argv) == "web" and "--proxy-headers" not in argv, argv
    from helpdesk.webserver import daphne_options

    options = daphne_options()
    from django.conf import settings

    assert option(options, "--websocket_timeout") == str(settings.WEBSOCKET_TIMEOUT)
    assert "--proxy-headers" not in options


# --- Tests: ports, probes, images -----------------------------------------------------------------------------------


def web_port() -> int:
    (port,) = [int(rest) for instruction, rest in dockerfile_instructions() if instruction == "EXPOSE"]
    return port


def named_port(container: dict, port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container.get("ports", []) if p.get("name") == port)


def test_web_port_agrees_everywhere() -> None:
    port = web_port()
    cmd = json.loads(next(rest for instruction, rest in dockerfile_instructions() if instruction == "CMD"))
    assert int(option(cmd, "-p")) == port
    web = compose_services()["web"]
    assert int(option(compose_argv(web), "-p")) == port
    assert [int(str(mapping).rsplit(":", 1)[1]) for mapping in web["ports"]] == [port]
    (url,) = re.findall(r"https?://[^\s'\"]+", " ".join(web["healthcheck"]["test"]))
    assert url_host_port(url)[1] == port
    deployment = k8s_get("Deployment", "web")
    (container,) = pod_spec(deployment)["containers"]
    assert int(option(k8s_argv(container), "-p")) == port
    assert [p["containerPort"] for p in container["ports"]] == [port]
    for probe in ("readinessProbe", "livenessProbe"):
        assert named_port(container, container[probe]["httpGet"]["port"]) == port
    service = k8s_get("Service", "web")
    assert [named_port(container, p["targetPort"]) for p in service["spec"]["ports"]] == [port]


def test_every_service_reaches_a_container_port_of_the_pods_it_selects() -> None:
    for service in (o for o in k8s_objects() if o["kind"] == "Service" and o["spec"].get("selector")):
        selector = service["spec"]["selector"].items()
        workloads = [w for w in k8s_workloads() if selector <= w["spec"]["template"]["metadata"]["labels"].items()]
        assert workloads, f"Service {service['metadata']['name']} selects no pods"
        for workload in workloads:
            containers = pod_spec(workload)["containers"]
            ports = {(p.get("name"), p["containerPort"]) for c in containers for p in c.get("ports", [])}
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                assert any(target in pair for pair in ports), f"{service['metadata']['name']}: {target} not in {ports}"


def test_probes_and_healthchecks_hit_real_urls() -> None:
    from django.urls import resolve

    paths = set()
    for _, container in k8s_helpdesk_containers():
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in container:
                paths.add(container[probe]["httpGet"]["path"])
    for service in compose_helpdesk_services().values():
        test = service.get("healthcheck", {}).get("test", [])
        paths |= {urlsplit(url).path for url in re.findall(r"https?://[^\s'\"]+", " ".join(test))}
    assert paths >= {"/healthz", "/livez"}
    for path in paths:
        assert resolve(path).route == path.lstrip("/"), f"{path} is not a URL of the helpdesk"


def test_web_is_ready_on_healthz_and_alive_on_livez() -> None:
    (container,) = pod_spec(k8s_get("Deployment", "web"))["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"


def test_livez_answers_without_touching_the_database(client) -> None:
    # No django_db mark: pytest-django fails the test if the view queries the database.
    response = client.get("/livez")
    assert response.status_code == 200 and response.json() == {"ok": True}


def test_helpdesk_image_is_the_same_everywhere() -> None:
    image = helpdesk_image()
    images = {s["image"] for s in compose_helpdesk_services().values()}
    images |= {c["image"] for _, c in k8s_helpdesk_containers()}
    assert images == {image}
    ollama = {s["image"] for s in compose_services().values() if s["image"].startswith("ollama/")}
    ollama |= {c["image"] for _, c in k8s_containers() if c["image"].startswith("ollama/")}
    assert len(ollama) == 1, f"compose and Kubernetes run different Ollama versions: {ollama}"


def test_worker_metrics_port_is_the_declared_and_annotated_port() -> None:
    checked = 0
    for workload, container in k8s_helpdesk_containers():
        env = k8s_env(container)
        if "WORKER_METRICS_PORT" in env:
            port = int(env["WORKER_METRICS_PORT"])
            assert named_port(container, "metrics") == port
            annotations = workload["spec"]["template"]["metadata"]["annotations"]
            assert annotations["prometheus.io/scrape"] == "true" and int(annotations["prometheus.io/port"]) == port
            checked += 1
    generation = pod_spec(k8s_get("Deployment", "worker-generation"))["containers"][0]
    assert "WORKER_METRICS_PORT" in k8s_env(generation) and checked >= 1


def test_metrics_directory_is_a_volume_of_the_pod_or_shared_by_the_compose_stack() -> None:
    for workload, container in k8s_helpdesk_containers():
        directory = k8s_env(container).get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == directory]
            (volume,) = [v for v in pod_spec(workload)["volumes"] if v["name"] == mount["name"]]
            assert "emptyDir" in volume, workload["metadata"]["name"]
    mounts = set()
    for service in compose_helpdesk_services().values():
        directory = interpolate(compose_env(service)["PROMETHEUS_MULTIPROC_DIR"])
        (mount,) = [v for v in service["volumes"] if v.endswith(":" + directory)]
        mounts.add(mount)
    assert len(mounts) == 1 and mounts.pop().split(":")[0] in compose()["volumes"]


# --- Tests: the model -----------------------------------------------------------------------------------------------


def test_modelfile_parameters_are_the_model_profile_defaults() -> None:
    from helpdesk.models import ModelProfile

    lines = [line.split() for line in MODELFILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    instructions = [line for line in lines if not line[0].startswith("#")]
    parameters = {line[1]: line[2] for line in instructions if line[0] == "PARAMETER"}
    (base,) = [line[1] for line in instructions if line[0] == "FROM"]
    expected = {name: ModelProfile._meta.get_field(name).default for name in ("temperature", "top_p", "num_predict",
                                                                              "num_ctx")}
    assert set(parameters) == set(expected)
    assert {name: type(expected[name])(value) for name, value in parameters.items()} == expected
    assert base == ModelProfile._meta.get_field("model").default


def test_ollama_pulls_the_models_the_helpdesk_is_configured_with() -> None:
    web = {k: interpolate(v) for k, v in compose_env(compose_services()["web"]).items()}
    pull = compose_services()["ollama-pull"]
    pulled = re.findall(r"ollama pull (\S+)", interpolate(" ".join(pull["command"])))
    assert pulled == [web["OLLAMA_CHAT_MODEL"], web["OLLAMA_EMBED_MODEL"]]
    assert url_host_port(pull["environment"]["OLLAMA_HOST"])[0] == "ollama"
    (init,) = pod_spec(k8s_get("StatefulSet", "ollama"))["initContainers"]
    keys = sorted(item["valueFrom"]["configMapKeyRef"]["key"] for item in init["env"])
    assert keys == ["OLLAMA_CHAT_MODEL", "OLLAMA_EMBED_MODEL"]
    assert all(value for value in k8s_env(init).values())


# --- Tests: references between files ---------------------------------------------------------------------------------


def test_compose_urls_name_compose_services() -> None:
    services = compose_services()
    env = {k: interpolate(v) for k, v in compose_env(services["web"]).items()}
    database = urlsplit(env["DATABASE_URL"])
    postgres = services[database.hostname]["environment"]
    assert (database.username, database.password, database.path.lstrip("/")) == (
        postgres["POSTGRES_USER"], interpolate(postgres["POSTGRES_PASSWORD"]), postgres["POSTGRES_DB"])
    assert url_host_port(env["REDIS_URL"])[0] in services
    for url in env["OLLAMA_HOSTS"].split(","):
        host, port = url_host_port(url)
        assert host in services and services[host]["image"].startswith("ollama/")
        assert port in {int(str(p).rsplit(":", 1)[1]) for p in services[host]["ports"]}


def test_compose_dependencies_and_volumes_exist() -> None:
    services = compose_services()
    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= set(services), name
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            assert not source.startswith((".", "/")) and source in compose()["volumes"], f"{name}: {mount}"
    assert services["migrate"]["restart"] == "no"
    for name in compose_helpdesk_services():
        if name != "migrate":
            condition = services[name]["depends_on"]["migrate"]["condition"]
            assert condition == "service_completed_successfully", name


def test_kubernetes_urls_name_kubernetes_services() -> None:
    services = {o["metadata"]["name"]: o for o in k8s_objects() if o["kind"] == "Service"}
    (web,) = pod_spec(k8s_get("Deployment", "web"))["containers"]
    env = k8s_env(web)
    assert url_host_port(env["DATABASE_URL"])[0] in services
    assert url_host_port(env["REDIS_URL"])[0] in services
    for url in env["OLLAMA_HOSTS"].split(","):
        host, port = url_host_port(url)
        pod, _, service_name = host.partition(".")
        statefulset_name, _, ordinal = pod.rpartition("-")
        statefulset = k8s_get("StatefulSet", statefulset_name)
        assert statefulset and statefulset["spec"]["serviceName"] == service_name, url
        assert services[service_name]["spec"].get("clusterIP") == "None", "pod names need a headless Service"
        assert int(ordinal) < statefulset["spec"]["replicas"], f"{url}: no such pod"
        (ollama,) = pod_spec(statefulset)["containers"]
        assert port in {p["containerPort"] for p in ollama["ports"]}


def test_kubernetes_references_resolve() -> None:
    for workload, container in k8s_containers():
        where = f"{workload['metadata']['name']}/{container['name']}"
        for source in container.get("envFrom", []):
            for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                if key in source:
                    assert k8s_get(kind, source[key]["name"]), f"{where}: no {kind} {source[key]['name']}"
        for item in container.get("env", []):
            ref = item.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                assert ref["key"] in k8s_get("ConfigMap", ref["name"])["data"], f"{where}: {ref}"
        volumes = {v["name"] for v in pod_spec(workload).get("volumes", [])}
        volumes |= {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
        assert {m["name"] for m in container.get("volumeMounts", [])} <= volumes, where
    for workload in k8s_workloads():
        if workload["kind"] != "Job":
            labels = workload["spec"]["template"]["metadata"]["labels"].items()
            assert workload["spec"]["selector"]["matchLabels"].items() <= labels, workload["metadata"]["name"]
    for hpa in (o for o in k8s_objects() if o["kind"] == "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert k8s_get(target["kind"], target["name"]), f"HPA {hpa['metadata']['name']} scales nothing"


def test_web_scales_on_cpu_with_a_cpu_request() -> None:
    hpa = k8s_get("HorizontalPodAutoscaler", "web")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "web"
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"] == ["cpu"]
    (container,) = pod_spec(k8s_get("Deployment", "web"))["containers"]
    assert container["resources"].get("requests", {}).get("cpu"), "CPU utilisation is measured against the request"


def test_generation_workers_scale_on_the_queue_depth_the_adapter_exposes() -> None:
    hpa = k8s_get("HorizontalPodAutoscaler", "worker-generation")
    target = k8s_get(hpa["spec"]["scaleTargetRef"]["kind"], hpa["spec"]["scaleTargetRef"]["name"])
    (container,) = pod_spec(target)["containers"]
    assert option(k8s_argv(container), "-Q") == "generation"
    (metric,) = [m["external"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "External"]
    assert metric == "helpdesk_generation_queue_depth"
    rules = yaml.safe_load(ADAPTER_VALUES.read_text(encoding="utf-8"))["rules"]["external"]
    exposed = [rule for rule in rules if rule["name"]["as"] == metric]
    assert len(exposed) == 1 and metric in exposed[0]["seriesQuery"]


def test_prometheus_scrapes_the_web_with_the_metrics_token() -> None:
    monitor = k8s_get("ServiceMonitor", "web")
    service = k8s_get("Service", "web")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]} and endpoint["path"] == "/metrics"
    credentials = endpoint["authorization"]["credentials"]
    assert credentials["key"] == "METRICS_TOKEN" and "METRICS_TOKEN" in settings_env()
    assert "METRICS_TOKEN" in k8s_get("Secret", credentials["name"])["stringData"]


def test_the_web_gets_the_processor_before_the_workers_on_one_compose_host() -> None:
    services = load_all(COMPOSE)[0]["services"]
    web = services["web"].get("cpu_shares", 1024)
    workers = [services[name].get("cpu_shares", 1024) for name in services if name.startswith("worker-")]
    assert workers and all(web > share for share in workers)



# --- Tests: production-safe settings ----------------------------------------------------------------------------


def settings_process_env(deployment_env: dict[str, str | None], tmp_path: Path) -> dict[str, str]:
    """The environment a helpdesk container gets from a deployment file, runnable here: none of this machine's
    settings, the operator's secrets filled in with strong values, the metrics directory made local."""
    env = {k: v for k, v in os.environ.items() if k not in settings_env() and k != "DJANGO_SETTINGS_MODULE"}
    env.update({k: v for k, v in deployment_env.items() if v is not None})
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["DATABASE_URL"] = re.sub(r"<[A-Z_]+>", "pw", env["DATABASE_URL"])
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
    return env


def deployment_envs() -> dict[str, dict[str, str | None]]:
    """The web container's environment in each deployment: compose (defaults of deploy/.env) and Kubernetes."""
    compose_web = {k: interpolate(v) for k, v in compose_env(compose_services()["web"]).items()}
    (k8s_web,) = pod_spec(k8s_get("Deployment", "web"))["containers"]
    return {"compose": compose_web, "kubernetes": k8s_env(k8s_web)}


def test_deployments_sit_behind_a_tls_proxy() -> None:
    # Without it, session and CSRF cookies lack Secure and browsers are never told to keep to https (HSTS).
    for where, env in deployment_envs().items():
        assert env.get("BEHIND_TLS_PROXY") == "true", where


def test_check_deploy_is_clean_with_the_deployment_files_values(tmp_path: Path) -> None:
    for where, env in deployment_envs().items():
        done = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT, env=settings_process_env(env, tmp_path), capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, f"{where}:\n{done.stdout}{done.stderr}"
        assert "no issues" in done.stdout, f"{where}: {done.stdout}"


def test_the_kubernetes_secret_placeholder_is_refused(tmp_path: Path) -> None:
    # Applying 02-secret.yaml as it is must stop the pods, not run them on a key everyone can read here.
    env = settings_process_env(deployment_envs()["kubernetes"], tmp_path)
    env["SECRET_KEY"] = k8s_get("Secret", "helpdesk")["stringData"]["SECRET_KEY"]
    done = subprocess.run([sys.executable, "-c", "import helpdesk.settings"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "SECRET_KEY is a placeholder" in done.stderr, done.stderr


def test_probes_and_scrapes_are_not_redirected_to_https() -> None:
    # They call the pod over plain HTTP (kubelet, compose's healthcheck, Prometheus); a redirect would fail them.
    from django.conf import settings

    paths = {"/metrics"}
    for _, container in k8s_helpdesk_containers():
        paths |= {container[p]["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe") if p in container}
    for service in compose_helpdesk_services().values():
        test = " ".join(service.get("healthcheck", {}).get("test", []))
        paths |= {urlsplit(url).path for url in re.findall(r"https?://[^\s'\"]+", test)}
    for path in paths:
        assert any(re.search(p, path.lstrip("/")) for p in settings.SECURE_REDIRECT_EXEMPT), path


def test_the_dockerfile_collectstatic_step_passes_the_settings() -> None:
    # The build step's key must pass the same rules as a container's (no DATABASE_URL there: embedded mode).
    runs = [rest for instruction, rest in dockerfile_instructions() if instruction == "RUN"]
    (step,) = [run for run in runs if "collectstatic" in run]
    env = {k: v for k, v in os.environ.items() if k not in settings_env() and k != "DJANGO_SETTINGS_MODULE"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(["sh", "-c", step], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr


def test_the_image_compiles_every_message_catalog(tmp_path: Path) -> None:
    # The catalogs stage's msgfmt step, run on a copy of locale/: a .mo for every .po, as `make` builds them.
    require(shutil.which("msgfmt") is not None, "GNU gettext (msgfmt)")
    instructions = dockerfile_instructions()
    (step,) = [rest for op, rest in instructions if op == "RUN" and "msgfmt" in rest]
    assert ("COPY", "--from=catalogs /build/locale locale") in instructions
    shutil.copytree(ROOT / "locale", tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo"))
    done = subprocess.run(["sh", "-c", step], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    catalogs = sorted(path.relative_to(tmp_path) for path in (tmp_path / "locale").rglob("*.po"))
    assert catalogs and sorted(p.relative_to(tmp_path) for p in (tmp_path / "locale").rglob("*.mo")) == [
        path.with_suffix(".mo") for path in catalogs
    ]


# --- Tests: what the image ships --------------------------------------------------------------------------------

# Test and development tools: requirements-dev.txt, never the image.
DEV_ONLY_PACKAGES = {"pytest", "pytest-django", "pytest-asyncio", "pytest-timeout", "selenium", "ruff", "websockets",
                     "pyyaml"}
DEV_ONLY_MODULES = {"pytest", "selenium", "websockets", "yaml", "ruff", "tests", "bench", "conftest"}
RUNTIME_CODE = ("helpdesk", "conversations", "knowledge", "agents")


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[=<>!~; ]", line, maxsplit=1)[0].lower())
    return names


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` (relative, with /) out of the build context: a pattern matching it or a folder
    above it; `**/` also matches at the top."""
    from fnmatch import fnmatchcase

    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    variants = [p for pattern in patterns for p in {pattern, pattern.removeprefix("**/")}]
    return any(fnmatchcase(prefix, pattern) for prefix in prefixes for pattern in variants)


def test_the_image_installs_only_the_runtime_requirements() -> None:
    runs = [rest for instruction, rest in dockerfile_instructions() if instruction == "RUN" and "pip install" in rest]
    assert runs and all(re.findall(r"-r\s+(\S+)", run) == ["requirements.txt"] for run in runs), runs
    assert not any("requirements-dev" in rest for _, rest in dockerfile_instructions())
    assert not requirement_names(ROOT / "requirements.txt") & DEV_ONLY_PACKAGES
    dev = ROOT / "requirements-dev.txt"
    assert "-r requirements.txt" in dev.read_text(encoding="utf-8").splitlines()
    assert DEV_ONLY_PACKAGES <= requirement_names(dev)


def test_the_image_leaves_out_tests_and_benchmarks() -> None:
    patterns = [
        line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    shipped = [f for f in files if not dockerignored(f, patterns)]
    left_in = [f for f in shipped if f.startswith(("tests/", "bench/")) or "/tests/" in f or f == "conftest.py"]
    assert not left_in, left_in
    assert "requirements-dev.txt" not in shipped
    for needed in ("manage.py", "requirements.txt", "helpdesk/settings.py", "static/widget.js", "templates"):
        assert any(f == needed or f.startswith(needed + "/") for f in shipped), needed


def test_runtime_code_imports_nothing_only_the_dev_requirements_install() -> None:
    found = []
    for package in RUNTIME_CODE:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "tests" in path.relative_to(ROOT).parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                found += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in DEV_ONLY_MODULES]
    assert not found, found
