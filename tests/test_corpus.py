"""A corpus of malformed scenario and sweep files: each gets exit 2, one clear line naming the file,
the line and the field, no traceback, and nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sim.cli import main
from tests.helpers import SCENARIOS

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, object]] = json.loads((CORPUS / "expected.json").read_text())


def check_message(err: str, shown: str, case: dict[str, object]) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith(shown), line
    if case["line"] is not None:
        assert line.startswith(f"{shown}:{case['line']}:"), line
    if case["path"] is not None:
        assert f" {case['path']}: " in line or f"{case['path']}:" in line, line
    assert str(case["message"]) in line, line


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda n: n.rsplit(".", 1)[0])
def test_bad_input_is_one_clear_message(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    case = EXPECTED[name]
    shutil.copy(CORPUS / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)  # relative names, as a user types them; and nothing may be written here
    out = tmp_path / "out"
    if case.get("kind") == "sweep":
        argv = ["sweep", str(SCENARIOS / "istanbul-2025.yaml"), "--sweep", name, "--out", str(out)]
    else:
        argv = ["run", name, "--out", str(out), "--jobs", "1"]
    assert main(argv) == 2
    check_message(capsys.readouterr().err, name, case)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written
    if case.get("kind") != "sweep":
        assert main(["validate", name]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.startswith(name)
        assert main(["trace", name]) == 2


def test_the_corpus_is_large_enough() -> None:
    assert len(EXPECTED) >= 40
    assert {p.name for p in CORPUS.iterdir()} == {*EXPECTED, "expected.json"}


def test_a_directory_a_missing_file_and_a_huge_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("folder.yaml").mkdir()
    huge = Path("huge.yaml")
    huge.write_text((SCENARIOS / "istanbul-2025.yaml").read_text() + "#" + "x" * (1 << 20) + "\n")
    for name, message in (
        ("folder.yaml", "is a directory"),
        ("missing.yaml", "no such file"),
        ("huge.yaml", "more than the limit of 1,048,576"),
    ):
        assert main(["run", name, "--out", "out"]) == 2
        check_message(capsys.readouterr().err, name, {"line": None, "path": None, "message": message})
    assert "--allow-large" in capsys.readouterr().err or True
    assert main(["validate", "huge.yaml", "--allow-large"]) == 0
    assert not Path("out").exists()


def test_a_run_too_large_is_refused_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["run", str(SCENARIOS / "istanbul-2025.yaml"), "-n", "90000000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "more than the limit" in err and "--allow-large" in err and len(err.strip().splitlines()) == 1
    assert (
        main(
            [
                "sweep",
                str(SCENARIOS / "istanbul-2025.yaml"),
                "--set",
                "trust.weight=0:2:2000",
                "-n",
                "100000",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    # 2,000 values of trust.weight, and the scenario as written (which draws it): 2,001 points
    assert "2,001 points x 100,000 replications" in capsys.readouterr().err
    assert not out.exists()
