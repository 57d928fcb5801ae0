"""The deployment files (deploy/) agree with the code and with each other: the settings and secrets the containers are
given, production mode behind TLS, `check --deploy`, the model profile's defaults.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from tests.support.deploy import (
    DEPLOY,
    ROOT,
    compose_env,
    compose_helpdesk_services,
    compose_services,
    dockerfile_instructions,
    interpolate,
    k8s_env,
    k8s_get,
    k8s_helpdesk_containers,
    k8s_objects,
    pod_spec,
    settings_env,
    url_host_port,
)

MODELFILE = DEPLOY / "ollama" / "Modelfile"


# Set by the Dockerfile for Python and pip themselves, not for the helpdesk's settings.
PYTHON_RUNTIME_ENV = {
    "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK",
}


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
    for name in ("SECRET_KEY", "DATABASE_URL", "FIELD_ENCRYPTION_KEYS", "LOOKUP_HASH_KEY"):
        interpolated = interpolate(env[name])
        assert re.search(r"<[A-Z_]+>", interpolated), f"compose {name} must come from deploy/.env, without default"


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


def settings_process_env(deployment_env: dict[str, str | None], tmp_path: Path) -> dict[str, str]:
    """The environment a helpdesk container gets from a deployment file, runnable here: none of this machine's
    settings, the operator's secrets filled in with strong values, the metrics directory made local."""
    env = {k: v for k, v in os.environ.items() if k not in settings_env() and k != "DJANGO_SETTINGS_MODULE"}
    env.update({k: v for k, v in deployment_env.items() if v is not None})
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    env["LOOKUP_HASH_KEY"] = secrets.token_urlsafe(32)
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
