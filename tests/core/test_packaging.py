"""Every package folder is found by pyproject.toml, so wheels contain all the code, and each
source folder holds its packages under their import names."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _searched_folders() -> list[str]:
    """pyproject's ``[tool.setuptools.packages.find] where``."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    where = setuptools["packages"]["find"]["where"]
    assert isinstance(where, list) and all(isinstance(folder, str) for folder in where)
    return where


def test_every_source_folder_is_searched_for_packages() -> None:
    searched = set(_searched_folders())
    source_folders = {"core", *(f"plugins/{p.name}" for p in (ROOT / "plugins").iterdir()
                                if p.is_dir() and not p.name.startswith(("_", ".")))}
    assert source_folders == searched


def test_folder_names_are_import_names() -> None:
    for where in _searched_folders():
        for child in (ROOT / where).iterdir():
            if child.name.startswith((".", "_")) or not child.is_dir():
                continue
            assert (child / "__init__.py").exists(), f"{child} is not a package"
            assert child.name.startswith("hybrid_calendar"), (
                f"{child}: packages are named hybrid_calendar* so they cannot collide")
