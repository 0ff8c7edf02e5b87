"""report.json against its schema, byte-identical output, and report.html in headless Chromium:
no console (JavaScript) errors, and the plots are there and draw."""
import copy
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from energy_kit import LOIHI_CORES, X, Caps, tiny_graph, tiny_result

from snncc.diagnostics import SnnccError
from snncc.energy import build_report, load_table, validate_report, write_report


def _report(table="loihi2", **kwargs):
    return build_report(tiny_graph(LOIHI_CORES), "loihi2", Caps(8, 24), X, tiny_result(), load_table(table), **kwargs)


def test_report_matches_the_schema_and_every_constant_has_its_source():
    report = _report()
    validate_report(report)
    table = report["cost_table"]
    assert table["id"] == "loihi2-pilotnet-estimate" and table["model"] == "loihi"
    for section in ("constants", "calibration"):
        for name, constant in table[section].items():
            assert constant["source"] and constant["confidence"] in ("measured", "published", "estimate"), name
    broken = copy.deepcopy(report)
    del broken["cost_table"]["constants"]["e_synop"]["source"]
    with pytest.raises(SnnccError, match="report.schema.json") as info:
        validate_report(broken)
    assert info.value.diagnostics[0].code == "SNN704"


def test_same_input_gives_byte_identical_report_files(tmp_path):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        assert write_report(str(tmp_path / name), _report()) == ["report.json", "report.html"]
    for file in ("report.json", "report.html"):
        assert (tmp_path / "one" / file).read_bytes() == (tmp_path / "two" / file).read_bytes()
    assert not list(tmp_path.glob("*/*.partial"))


def test_html_has_every_plot_or_says_why_not(tmp_path):
    rows = [{"weight_bits": b, "accuracy": a, "energy_per_inference_j": e} for b, a, e in [(4, 0.8, 1e-6), (8, 0.95, 2e-6)]]
    from snncc.energy.html import render_html

    with_accuracy = render_html(_report(accuracy_bits={"rows": rows}))
    assert with_accuracy.count("<svg") == 4 and "omitted" not in with_accuracy
    without = render_html(_report())
    assert without.count("<svg") == 3 and "accuracy_bits.json was not found" in without


def _chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):  # what `make sysdeps` does
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], capture_output=True, timeout=900)
        found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed and could not be installed (make sysdeps installs it)")
    return found


def _open(page, tmp_path, *mode):
    """Run headless Chromium on ``page``; (stdout, console messages)."""
    profile = tmp_path / f"profile-{mode[0].strip('-')}"
    run = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
         "--enable-logging=stderr", "--v=0", *mode, f"file://{page}"],
        capture_output=True, text=True, timeout=120)
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    return run.stdout, console


def test_chromium_reports_javascript_errors_of_a_broken_page(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    _, console = _open(page, tmp_path, "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in console)


def test_report_html_opens_in_headless_chromium_without_errors_and_plots_draw(tmp_path):
    from PIL import Image

    write_report(str(tmp_path), _report(accuracy_bits=[{"bits": 4, "accuracy": 0.9}, {"bits": 8, "accuracy": 0.95}]))
    page = tmp_path / "report.html"
    dom, console = _open(page, tmp_path, "--dump-dom")
    assert console == []
    assert dom.count("<svg") == 4 and "Energy report: loihi2" in dom and "0.36" in dom
    shot = tmp_path / "shot.png"
    _, console = _open(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,2600")
    assert console == []
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    coloured = np.abs(pixels.astype(int) - pixels.mean(axis=1, keepdims=True)).max(axis=1) > 40
    assert coloured.mean() > 0.003  # bars, heatmaps, raster ticks are coloured; a page without plots has ~0.1 %
