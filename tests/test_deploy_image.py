"""The deployment files (deploy/) agree with the code and with each other: the image (the same everywhere, its
collectstatic and catalogs, runtime requirements only, no tests or benchmarks).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.deploy import (
    DEPLOY,
    ROOT,
    compose_helpdesk_services,
    compose_services,
    dockerfile_instructions,
    k8s_containers,
    k8s_helpdesk_containers,
    settings_env,
)
from tests.support.environment import require


def helpdesk_image() -> str:
    images = {s["image"] for s in compose_services().values() if "build" in s}
    assert len(images) == 1, f"compose builds the helpdesk image under several names: {images}"
    return images.pop()


def test_helpdesk_image_is_the_same_everywhere() -> None:
    image = helpdesk_image()
    images = {s["image"] for s in compose_helpdesk_services().values()}
    images |= {c["image"] for _, c in k8s_helpdesk_containers()}
    assert images == {image}
    ollama = {s["image"] for s in compose_services().values() if s["image"].startswith("ollama/")}
    ollama |= {c["image"] for _, c in k8s_containers() if c["image"].startswith("ollama/")}
    assert len(ollama) == 1, f"compose and Kubernetes run different Ollama versions: {ollama}"
    pgbouncer = {s["image"] for s in compose_services().values() if s["image"].startswith("edoburu/pgbouncer:")}
    pgbouncer |= {c["image"] for _, c in k8s_containers() if c["image"].startswith("edoburu/pgbouncer:")}
    assert len(pgbouncer) == 1, f"compose and Kubernetes run different PgBouncer versions: {pgbouncer}"


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
