"""The report after a compile with calibration data, and `snncc report`."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from snncc.cli import main

SAMPLES = 16  # calibration samples: the report's means need few; keeps the suite fast


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def calibration(digits, tmp_path_factory):
    path = tmp_path_factory.mktemp("cal") / "cal.npy"
    np.save(path, np.load(digits / "test_x.npy")[:SAMPLES])
    return path


def test_cli_compile_writes_and_prints_the_report_and_report_rerenders_it(digits, calibration, tmp_path):
    out = tmp_path / "OUT"
    result = invoke("compile", digits / "model.pt", "-o", out, "--calibration", calibration)
    assert result.exit_code == 0, result.output
    assert "energy estimate: reference" in result.output and "SNN/ANN" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"report.json", "report.html"} <= set(manifest["artifacts"])
    report = json.loads((out / "report.json").read_text())
    assert report["input"]["samples"] == SAMPLES and report["backend"] == "reference"
    html = (out / "report.html").read_bytes()
    (out / "report.html").unlink()
    result = invoke("report", out)
    assert result.exit_code == 0, result.output
    assert (out / "report.html").read_bytes() == html and "energy estimate" in result.output
    result = invoke("report", out, "--input", calibration, "--energy-table", "loihi1")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "report.json").read_text())["cost_table"]["id"] == "loihi1-davies2018"


def test_report_command_errors(tmp_path, calibration):
    result = invoke("report", tmp_path)
    assert result.exit_code == 2 and "SNN703" in result.output
    result = invoke("report", tmp_path, "--energy-table", "loihi1")
    assert result.exit_code == 2 and "SNN705" in result.output


def test_a_bad_energy_table_fails_the_compile_and_writes_nothing(digits, calibration, tmp_path):
    table = tmp_path / "bad.json"
    table.write_text(json.dumps({"id": "x", "model": "loihi", "constants": {}}))
    out = tmp_path / "OUT"
    result = invoke("compile", digits / "model.pt", "-o", out, "--calibration", calibration, "--energy-table", table)
    assert result.exit_code == 2 and "SNN701" in result.output and "needs constant 'e_synop'" in result.output
    assert not out.exists()
