"""examples/nir_cnn: the NIR paper CNN compiles for every target and its backends agree."""
import os

from snncc.registry import TARGETS
from snncc.loading import import_file

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_nir_cnn_example_compiles_for_every_target_and_benches_clean(paper, tmp_path):
    example = import_file(os.path.join(REPO, "examples", "nir_cnn", "compile_all.py"), "nir_cnn_example")
    status = example.main(["--nir", paper("02_cnn", "cnn_sinabs.nir"), "--out", str(tmp_path), "--samples", "1", "--steps", "3"])
    assert status == 0
    assert sorted(os.listdir(tmp_path)) == sorted(TARGETS.names())
    assert all(os.path.isfile(tmp_path / t / "manifest.json") for t in TARGETS.names())
