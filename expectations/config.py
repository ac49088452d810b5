"""Rule thresholds: the shipped defaults (``defaults.toml``) with per-run overrides.

Keys are ``section.name`` (``outlier.z``). Overrides may be flat (``{"outlier.z": 2.5}``) or nested
(``{"outlier": {"z": 2.5}}``); an unknown key or a value of the wrong kind raises ``ValueError``,
so a typo cannot silently leave a default in place. A table value (``unit_limits.per_day``) is
merged code by code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")


@dataclass(frozen=True)
class RulesConfig(Mapping[str, Any]):
    """Flat, read-only view of the thresholds (``config["outlier.z"]``)."""

    settings: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.settings)

    def __len__(self) -> int:
        return len(self.settings)


def _flatten(tree: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section, body in tree.items():
        if not isinstance(body, Mapping):
            flat[section] = body
            continue
        for name, value in body.items():
            flat[f"{section}.{name}"] = value
    return flat


def _flatten_overrides(overrides: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in overrides.items():
        if key in known:
            flat[key] = value
        elif isinstance(value, Mapping):
            for name, inner in value.items():
                flat[f"{key}.{name}"] = inner
        else:
            flat[key] = value
    return flat


def _check_kind(key: str, default: Any, value: Any) -> Any:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, list):
        ok = isinstance(value, list | tuple)
        value = list(value) if ok else value
    elif isinstance(default, Mapping):
        ok = isinstance(value, Mapping)
        value = {**default, **value} if ok else value
    else:
        ok = True
    if not ok:
        raise ValueError(f"threshold {key}: expected {type(default).__name__}, got {value!r}")
    return value


def load_config(
    overrides: Mapping[str, Any] | None = None, *, defaults_path: Path = DEFAULTS_PATH
) -> RulesConfig:
    """The defaults with ``overrides`` applied (see the module docstring)."""
    with defaults_path.open("rb") as handle:
        values = _flatten(tomllib.load(handle))
    for key, value in _flatten_overrides(overrides or {}, values).items():
        if key not in values:
            raise ValueError(f"unknown threshold {key!r}; known: {', '.join(sorted(values))}")
        values[key] = _check_kind(key, values[key], value)
    return RulesConfig(values)
