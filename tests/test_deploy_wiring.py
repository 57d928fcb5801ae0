"""The deployment files (deploy/) agree with the code and with each other: names, ports, URLs, references, probes and
metrics scrapes that reach what they name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.deploy import (
    ADAPTER_VALUES,
    COMPOSE,
    DEPLOY,
    K8S,
    compose,
    compose_argv,
    compose_env,
    compose_helpdesk_services,
    compose_services,
    dockerfile_instructions,
    interpolate,
    k8s_argv,
    k8s_containers,
    k8s_env,
    k8s_get,
    k8s_helpdesk_containers,
    k8s_objects,
    k8s_workloads,
    load_all,
    option,
    pod_spec,
    settings_env,
    url_host_port,
)


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yml", ".yaml"})


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


def test_compose_urls_name_compose_services() -> None:
    services = compose_services()
    env = {k: interpolate(v) for k, v in compose_env(services["web"]).items()}
    database = urlsplit(env["DATABASE_URL"])
    # The web reaches PgBouncer, as the PostgreSQL role and database PgBouncer logs in to PostgreSQL with.
    pgbouncer = {k: interpolate(v) for k, v in compose_env(services[database.hostname]).items()}
    assert services[database.hostname]["image"].startswith("edoburu/pgbouncer:")
    assert (database.username, database.password, database.path.lstrip("/")) == (
        pgbouncer["DB_USER"], pgbouncer["DB_PASSWORD"], pgbouncer["DB_NAME"])
    postgres = services[pgbouncer["DB_HOST"]]["environment"]
    assert services[pgbouncer["DB_HOST"]]["image"].startswith("postgres:")
    assert (pgbouncer["DB_USER"], pgbouncer["DB_PASSWORD"], pgbouncer["DB_NAME"]) == (
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


def test_every_helpdesk_process_reaches_postgresql_through_pgbouncer_in_transaction_mode() -> None:
    # Behind transaction pooling the app must run with DATABASE_POOLER (no server-side cursors, no prepared
    # statements); PgBouncer must pool by transaction and reach PostgreSQL as the role and database the app names.
    services = compose_services()
    given = [(f"compose {name}", {k: interpolate(v) for k, v in compose_env(s).items()})
             for name, s in compose_helpdesk_services().items()]
    given += [(f"{w['metadata']['name']}/{c['name']}", k8s_env(c)) for w, c in k8s_helpdesk_containers()]
    k8s_services = {o["metadata"]["name"] for o in k8s_objects() if o["kind"] == "Service"}
    for where, env in given:
        host = url_host_port(env["DATABASE_URL"])[0]
        assert env.get("DATABASE_POOLER") == "pgbouncer" and host == "pgbouncer", where
        assert host in (services if where.startswith("compose") else k8s_services), where
    compose_pgbouncer = {k: interpolate(v) for k, v in compose_env(services["pgbouncer"]).items()}
    (k8s_pgbouncer,) = pod_spec(k8s_get("Deployment", "pgbouncer"))["containers"]
    k8s_pgbouncer_env = k8s_env(k8s_pgbouncer)
    for env in (compose_pgbouncer, k8s_pgbouncer_env):
        assert env["POOL_MODE"] == "transaction"
        assert int(env["MAX_CLIENT_CONN"]) > int(env["DEFAULT_POOL_SIZE"]) + int(env["RESERVE_POOL_SIZE"])
    upstream = urlsplit(k8s_pgbouncer_env["DATABASE_URL"])
    assert upstream.hostname in k8s_services and upstream.hostname != "pgbouncer"
    app = urlsplit(k8s_env(pod_spec(k8s_get("Deployment", "web"))["containers"][0])["DATABASE_URL"])
    assert (upstream.username, upstream.path) == (app.username, app.path)
    assert services["migrate"]["depends_on"]["pgbouncer"]["condition"] == "service_healthy"
    assert services["pgbouncer"]["depends_on"]["postgres"]["condition"] == "service_healthy"


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


def test_prometheus_scrapes_the_web_with_the_metrics_token() -> None:
    monitor = k8s_get("ServiceMonitor", "web")
    service = k8s_get("Service", "web")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]} and endpoint["path"] == "/metrics"
    credentials = endpoint["authorization"]["credentials"]
    assert credentials["key"] == "METRICS_TOKEN" and "METRICS_TOKEN" in settings_env()
    assert "METRICS_TOKEN" in k8s_get("Secret", credentials["name"])["stringData"]


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
