"""--set KEY=VALUE: threshold overrides read as TOML values and checked before anything runs."""

from __future__ import annotations

import pytest

from flows.cli import UsageError, _overrides, main


def test_values_are_read_as_toml() -> None:
    assert _overrides(
        ["outlier.z=2.5", "coverage.unverified_days=45", "coding.timed_minutes=[16, 40, 55]"]
    ) == {"outlier.z": 2.5, "coverage.unverified_days": 45, "coding.timed_minutes": [16, 40, 55]}
    assert _overrides(None) is None


@pytest.mark.parametrize(
    ("assignment", "words"),
    [
        ("outlier.zz=3", "unknown threshold 'outlier.zz'"),
        ("outlier.z", "expected KEY=VALUE"),
        ("coverage.unverified_days=soon", "coverage.unverified_days"),
    ],
)
def test_bad_overrides_are_usage_errors(assignment: str, words: str) -> None:
    with pytest.raises(UsageError, match=words.replace(".", r"\.")):
        _overrides([assignment])


def test_a_bad_override_exits_2_before_running(tmp_path, capsys) -> None:
    (tmp_path / "claims").mkdir()
    code = main(
        [
            "run",
            "--inbox",
            str(tmp_path),
            "--db",
            str(tmp_path / "w.duckdb"),
            "--set",
            "outlier.zz=3",
        ]
    )
    assert code == 2
    assert capsys.readouterr().err.startswith("recoup: --set: unknown threshold 'outlier.zz'")
    assert not (tmp_path / "w.duckdb").exists()
