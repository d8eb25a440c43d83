"""``cep plugin new NAME``: a complete operator plugin distribution, ready to install and test.

The files come from ``template/`` (``string.Template`` placeholders such as ``${package}``);
what they generate is tested as generated — built, installed and its own tests run — so a
newcomer starts from a plugin that works, then changes its public and its flow. The tutorial
of docs/plugins.md quotes these files for the name ``atelier``.
"""

from __future__ import annotations

import keyword
import re
import string
from importlib import resources
from pathlib import Path

from cep_core._version import __version__

NAME = re.compile(r"^[a-z][a-z0-9_]{1,29}$")
RESERVED = frozenset({"core", "kit", "testing", "scaffold", "test", "tests"})

# Template file -> generated path (placeholders allowed), relative to the project folder.
FILES: dict[str, str] = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "package/__init__.py.tmpl": "${package}/__init__.py",
    "package/py.typed": "${package}/py.typed",
    "package/hooks.py.tmpl": "${package}/hooks.py",
    "package/flow.py.tmpl": "${package}/flow.py",
    "package/synthesis.py.tmpl": "${package}/synthesis.py",
    "package/data/parameters.toml.tmpl": "${package}/data/parameters.toml",
    "package/templates/synthesis.html.tmpl": "${package}/templates/${package}/synthesis.html",
    "tests/test_plugin.py.tmpl": "tests/test_${name}.py",
}


class ScaffoldError(ValueError):
    """The plugin cannot be generated; the message says why, in French."""


def check_name(name: str) -> str:
    """`name` if it can name a plugin (entry point, id and ``cep_<name>`` package)."""
    if not NAME.match(name) or name.endswith("_") or "__" in name:
        raise ScaffoldError(
            f"nom de plugin invalide : « {name} » (2 à 30 caractères : minuscules, chiffres et "
            "_ isolés, en commençant par une lettre ; exemple : mon_operateur)"
        )
    if name in RESERVED or name.startswith("cep") or keyword.iskeyword(name):
        raise ScaffoldError(f"nom de plugin réservé : « {name} »")
    return name


def core_range(version: str = __version__) -> str:
    """The core versions a new plugin accepts: this minor series (the hook API's contract)."""
    major, minor = (int(part) for part in version.split(".")[:2])
    if major == 0:
        return f">={major}.{minor},<{major}.{minor + 1}"
    return f">={major}.{minor},<{major + 1}"


def placeholders(name: str) -> dict[str, str]:
    words = check_name(name).split("_")
    return {
        "name": name,
        "package": f"cep_{name}",
        "distribution": "cep-" + name.replace("_", "-"),
        "label": " ".join(words).capitalize(),
        "class_name": "".join(word.capitalize() for word in words),
        "core_range": core_range(),
    }


def render_files(name: str) -> dict[str, str]:
    """The generated files of plugin `name`: path relative to the project -> content."""
    values = placeholders(name)
    root = resources.files("cep_core.scaffold").joinpath("template")
    rendered: dict[str, str] = {}
    for source, target in FILES.items():
        text = root.joinpath(source).read_text(encoding="utf-8")
        path = string.Template(target).substitute(values)
        rendered[path] = string.Template(text).substitute(values)
    return rendered


def project_folder(name: str, parent: Path) -> Path:
    return parent / placeholders(name)["distribution"]


def generate(name: str, parent: Path) -> list[Path]:
    """Write plugin `name` into ``parent/cep-<name>/``; returns the files written.

    Refuses (`ScaffoldError`) an invalid name or a folder that already exists and is not
    empty: nothing of the author's is ever overwritten.
    """
    folder = project_folder(name, parent)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ScaffoldError(f"le dossier « {folder} » existe déjà et n'est pas vide")
    written = []
    for relative, content in render_files(name).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
