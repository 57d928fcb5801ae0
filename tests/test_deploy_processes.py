"""The deployment files (deploy/) agree with the code and with each other: the processes they run (entry points, Celery
queues and their workers, one beat, the web server's timeouts) and how they scale.
"""

from __future__ import annotations

import importlib
import json
import re

import yaml

from tests.support.deploy import (
    _COMPOSE_VAR,
    ADAPTER_VALUES,
    COMPOSE,
    compose_argv,
    compose_env,
    compose_helpdesk_services,
    dockerfile_instructions,
    interpolate,
    k8s_argv,
    k8s_env,
    k8s_get,
    k8s_helpdesk_containers,
    k8s_objects,
    load_all,
    option,
    pod_spec,
    settings_env,
)


def task_queue_names() -> set[str]:
    from helpdesk.celery import app

    return {queue.name for queue in app.conf.task_queues}


def compose_vars(text: str) -> set[str]:
    """Host variables a compose value interpolates."""
    return {
        re.match(r"[A-Za-z_][A-Za-z0-9_]*", m.group("braced") or m.group("bare")).group(0)
        for m in _COMPOSE_VAR.finditer(text)
        if not m.group("escaped")
    }


def k8s_expand(text: str, env: dict[str, str | None]) -> str:
    return re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1)) or m.group(0), text)


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
            # Celery's time limits only work on prefork (or gevent) pools; the generation worker's threads are bounded
            # by REPLY_MAX_DURATION_S instead (its streams run on one event loop: helpdesk.runtime.aio.run_shared).
            allowed = ("threads", "prefork") if queues == ["generation"] else (None, "prefork", "gevent")
            assert option(argv, "-P", "--pool") in allowed, argv
            return "worker"
        assert argv[3] == "beat", f"unknown celery command {argv[3]}"
        return "beat"
    if program == "python" and argv[1:2] == ["manage.py"]:
        assert argv[2] in get_commands(), f"manage.py has no command {argv[2]}"
        return "manage"
    raise AssertionError(f"not an entry point of the helpdesk: {argv}")


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


def test_the_web_gets_the_processor_before_the_workers_on_one_compose_host() -> None:
    services = load_all(COMPOSE)[0]["services"]
    web = services["web"].get("cpu_shares", 1024)
    workers = [services[name].get("cpu_shares", 1024) for name in services if name.startswith("worker-")]
    assert workers and all(web > share for share in workers)
