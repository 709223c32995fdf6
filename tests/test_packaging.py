"""The image's build steps, as far as a machine without Docker can run them.

The wheel is built from exactly what the Dockerfile copies, with exactly its command; then it is
installed into a clean virtual environment (dependencies resolved by pip, as in the image), and
``hubpulse --help`` and ``hubpulse demo`` run from there, outside the source tree.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.core.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PACKAGES = ("bot", "commands", "templates")


def instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    split: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            split.append([])
        if split:
            split[-1].append((keyword, rest))
    return split


def build_stage_copies() -> list[tuple[list[str], str]]:
    build = stages()[0]
    copies = []
    for keyword, rest in build:
        if keyword == "COPY":
            *sources, target = shlex.split(rest)
            copies.append((sources, target))
    return copies


def wheel_command() -> list[str]:
    [command] = [shlex.split(rest) for kw, rest in stages()[0] if kw == "RUN" and "wheel" in rest]
    return command


def package_files() -> set[str]:
    """Every file of the packages in the source tree, as wheel paths."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                found.add(path.relative_to(ROOT).as_posix())
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as the Dockerfile's first stage builds it."""
    context = tmp_path_factory.mktemp("docker-build") / "src"
    context.mkdir()
    for sources, target in build_stage_copies():
        for source in sources:
            origin = ROOT / source
            if origin.is_dir():
                ignore = shutil.ignore_patterns("__pycache__")
                shutil.copytree(origin, context / target, ignore=ignore)
            else:
                shutil.copy2(origin, context / target / origin.name)
    out = context.parent / "wheels"
    command = wheel_command()
    assert command[:2] == ["python", "-m"]
    command = [sys.executable, *command[1:]]
    command[command.index("/wheels")] = str(out)
    subprocess.run(command, cwd=context, check=True, capture_output=True, timeout=300)
    [built] = out.glob("hubpulse-*.whl")
    return built


def test_the_wheel_holds_every_package_file_templates_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = package_files() - names
    assert not missing, f"the wheel lacks {sorted(missing)}"
    assert "bot/data/orgs.csv" in names
    assert "bot/store/migrations/env.py" in names
    assert "bot/store/migrations/script.py.mako" in names
    assert any(n.startswith("bot/store/migrations/versions/0001") for n in names)
    assert any(n.startswith("templates/") and n.endswith(".j2") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "hubpulse = bot.cli:run" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.fixture(scope="module")
def clean_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with nothing but the wheel and the dependencies pip resolves."""
    venv = tmp_path_factory.mktemp("clean") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    subprocess.run(
        [*pip, "install", "--no-compile", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
        env=outside_environment(),
    )
    return venv


def outside_environment(**extra: str) -> dict[str, str]:
    """This process's environment without anything pointing into the source tree.

    Bytecode may be written: the first run compiles what it imports and the next reuse it.
    """
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if k not in dropped} | extra


def run_in(venv: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = outside_environment(
        HUBPULSE_DATABASE_URL=f"sqlite:///{cwd / 'demo.db'}", XDG_DATA_HOME=str(cwd)
    )
    return subprocess.run(
        [str(venv / "bin" / argv[0]), *argv[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_hubpulse_runs_from_the_clean_environment(clean_venv, tmp_path):
    located = run_in(
        clean_venv, tmp_path, "python", "-c", "import bot, templates; print(bot.__file__)"
    )
    assert located.returncode == 0, located.stderr
    assert Path(located.stdout.strip()).is_relative_to(clean_venv)

    helped = run_in(clean_venv, tmp_path, "hubpulse", "--help")
    assert helped.returncode == 0, helped.stderr
    for verb in ("serve", "scheduler", "refresh", "demo", "config", "db", "snapshots", "export"):
        assert re.search(rf"^\s+{verb}\s", helped.stdout, re.MULTILINE), f"no {verb} in --help"

    demo = run_in(clean_venv, tmp_path, "hubpulse", "demo")
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.strip()
    assert "Traceback" not in demo.stderr
    assert (tmp_path / "demo.db").exists()


def test_the_dockerfile_shape():
    build, runtime = stages()
    assert re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim AS build", build[0][1])
    assert runtime[0][1] == "python:${PYTHON_VERSION}-slim"
    assert re.search(r"^ARG PYTHON_VERSION=3\.1[1-9]$", DOCKERFILE, re.MULTILINE)
    user = [rest for kw, rest in runtime if kw == "USER"]
    assert user == ["hubpulse"]
    assert [kw for kw, _ in runtime].index("USER") < [kw for kw, _ in runtime].index("CMD")
    [healthcheck] = [rest for kw, rest in runtime if kw == "HEALTHCHECK"]
    assert healthcheck.endswith('CMD ["python", "-m", "bot.ops.probe"]')
    assert ("CMD", '["hubpulse", "serve"]') in runtime
    assert ("VOLUME", '["/data"]') in runtime
    environment = dict(
        pair.split("=", 1) for kw, rest in runtime if kw == "ENV" for pair in rest.split()
    )
    assert environment["HUBPULSE_DATABASE_URL"] == "sqlite:////data/hubpulse.db"
    load_settings(environment)


def test_the_docker_context_lets_in_what_the_build_copies():
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copied = {source.rstrip("/") for sources, _ in build_stage_copies() for source in sources}
    assert copied <= allowed
    assert {"pyproject.toml", *PACKAGES} <= copied


def _declared_distributions() -> set[str]:
    """The distributions ``pyproject.toml`` declares for running (not the dev extra),
    normalised (PEP 503)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = (re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0] for spec in project["dependencies"])
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names}


def _imported_top_level_modules() -> set[str]:
    """Every module imported at the top level of a name by the shipped packages' code."""
    import ast

    found: set[str] = set()
    for package in ("bot", "commands"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.partition(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.partition(".")[0])
    return found


def test_every_third_party_import_is_a_declared_dependency():
    """A package the code imports but pyproject does not declare works only by accident (it
    came with another one) and breaks when that one stops bringing it."""
    from importlib.metadata import packages_distributions

    own = {"bot", "commands", "templates", "_typeshed"}  # _typeshed: type checkers only
    providers = packages_distributions()
    declared = _declared_distributions()
    undeclared = {}
    for module in sorted(_imported_top_level_modules() - own - set(sys.stdlib_module_names)):
        distributions = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [])}
        if not distributions & declared:
            undeclared[module] = sorted(distributions) or ["(not installed)"]
    assert undeclared == {}, f"imported but not declared in pyproject.toml: {undeclared}"


def test_huggingface_hub_is_pinned_to_the_major_version_the_code_uses():
    from importlib.metadata import version

    project = (ROOT / "pyproject.toml").read_text()
    major = int(version("huggingface_hub").split(".")[0])
    assert re.search(rf'"huggingface_hub>=[\d.]+,<{major + 1}"', project), project


def test_no_private_module_of_a_dependency_is_imported():
    """A private module (``huggingface_hub.utils._http``) may change in any release: the
    version pins cannot protect an import of it."""
    import ast

    private = []
    for package in ("bot", "commands"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                for name in names:
                    top, *parts = name.split(".")
                    if top not in PACKAGES and any(part.startswith("_") for part in parts):
                        private.append(f"{path.relative_to(ROOT)}: {name}")
    assert private == []
