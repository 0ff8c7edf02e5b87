"""NetSpec persistence and validation: every violation reported with its SNN4xx code."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from snncc.diagnostics import Severity, SnnccError
from snncc.targets.loihi2.netspec import Connection, InputPort, LifPopulation, NetSpec


def _good_spec(seed: int = 0) -> NetSpec:
    rng = np.random.default_rng(seed)
    return NetSpec(
        inputs=[InputPort("x", 6)],
        populations=[
            LifPopulation("h", 5, du=100, dv=4095, vth=131071,
                          bias_mant=rng.integers(-4096, 4096, 5), bias_exp=[0, 1, 2, 6, 7],
                          v_init=[0, 64, -(2**23 - 1), 2**23 - 1, 5]),
            LifPopulation("o", 3, du=0, dv=0, vth=0),
        ],
        connections=[
            Connection("c1", "x", "h", rng.integers(-128, 128, (5, 6)) * 2, weight_exp=-8),
            Connection("c2", "h", "o", rng.integers(0, 256, (3, 5)), num_weight_bits=8,
                       weight_exp=7, delays=rng.integers(0, 63, (3, 5))),
            Connection("rec", "o", "h", -rng.integers(0, 256, (5, 3)), sign_mode="inhibitory"),
        ],
    )


def test_valid_spec_has_no_diagnostics():
    spec = _good_spec()
    assert spec.validate() == []
    spec.check()


def test_save_load_round_trip_and_deterministic_bytes(tmp_path):
    spec = _good_spec()
    j1, n1 = spec.save(tmp_path / "a")
    loaded = NetSpec.load(tmp_path / "a")
    assert loaded.equals(spec)
    assert loaded.connections[1].delays is not None and loaded.connections[0].delays is None
    assert loaded.connections[2].sign_mode == "inhibitory"
    assert loaded.populations[0].v_init.tolist() == [0, 64, -(2**23 - 1), 2**23 - 1, 5]
    assert not loaded.populations[1].v_init.any()
    j2, n2 = loaded.save(tmp_path / "b")
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(j1) == digest(j2) and digest(n1) == digest(n2)
    assert not spec.equals(_good_spec(seed=1))


def test_scalar_bias_broadcasts_and_arrays_are_read_only():
    pop = LifPopulation("p", 4, du=1, dv=2, vth=3, bias_mant=7, bias_exp=2)
    assert pop.bias_mant.tolist() == [7, 7, 7, 7] and pop.bias_exp.tolist() == [2, 2, 2, 2]
    with pytest.raises(ValueError):
        pop.bias_mant[0] = 1


def test_validate_reports_every_range_violation():
    spec = NetSpec(
        inputs=[InputPort("x", 2)],
        populations=[
            LifPopulation("h", 2, du=4096, dv=-1, vth=131072,
                          bias_mant=[4096, -4097], bias_exp=[8, -1], v_init=[2**23, 0]),
        ],
        connections=[
            Connection("mixed", "x", "h", [[-257, 3], [255, 0]], num_weight_bits=9,
                       weight_exp=8),
            Connection("exc", "x", "h", [[1, 2], [3, 4]], sign_mode="excitatory",
                       delays=[[0, 63], [-1, 2]]),
            Connection("wrongsign", "x", "h", [[-1, 0], [0, 0]], sign_mode="excitatory"),
            Connection("inh", "x", "h", [[-256, 0], [0, 0]]),
            Connection("badmode", "x", "h", [[1, 0], [0, 0]],
                       sign_mode="NULL"),  # type: ignore[arg-type]
            Connection("lossy", "x", "h", [[3, -3], [2, 0]]),
        ],
    )
    diags = spec.validate()
    by_node: dict[str, list[str]] = {}
    for d in diags:
        by_node.setdefault(d.node, []).append(d.code)
        assert d.hint
    assert sorted(by_node["h"]) == ["SNN428", "SNN428", "SNN429", "SNN430", "SNN431", "SNN439"]
    assert sorted(by_node["mixed"]) == ["SNN424", "SNN426", "SNN427"]
    assert by_node["exc"] == ["SNN432"]
    assert by_node["wrongsign"] == ["SNN424"]
    assert by_node["inh"] == ["SNN424"]           # -256 is below the inhibitory floor -255
    assert by_node["badmode"] == ["SNN425"]
    assert by_node["lossy"] == ["SNN433"]
    lossy = next(d for d in diags if d.node == "lossy")
    assert lossy.severity is Severity.WARNING and "2 weight(s)" in lossy.message
    with pytest.raises(SnnccError) as info:
        spec.check()
    assert len(info.value.diagnostics) == len(diags) - 1   # the warning is not raised


def test_validate_reports_structure_errors():
    spec = NetSpec(
        inputs=[InputPort("x", 2), InputPort("h", 1)],
        populations=[LifPopulation("h", 2, du=0, dv=0, vth=1)],
        connections=[
            Connection("c", "x", "nowhere", [[1, 1]]),
            Connection("d", "x", "x", [[1, 1]]),
            Connection("e", "x", "h", [[1, 1, 1], [1, 1, 1]]),
            Connection("f", "x", "h", [[0.5, 1.0], [1.0, 1.0]]),
            Connection("g", "x", "h", [[1, 1], [1, 1]], delays=[[1, 2, 3]]),
        ],
    )
    codes = sorted(d.code for d in spec.validate())
    assert codes == ["SNN420", "SNN421", "SNN421", "SNN422", "SNN422", "SNN423"]


def test_sparse_flag_round_trips(tmp_path):
    spec = NetSpec([InputPort("x", 2)], [LifPopulation("p", 1, du=0, dv=0, vth=1)],
                   [Connection("c", "x", "p", [[0, 3]], sparse=True)])
    spec.save(tmp_path / "s")
    assert NetSpec.load(tmp_path / "s").connections[0].sparse is True
    assert NetSpec.load(tmp_path / "s").equals(spec)
