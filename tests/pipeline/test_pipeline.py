import dataclasses
import os
import sys
import textwrap

import numpy as np
import pytest

from snncc import ir
from snncc.diagnostics import SnnccError
from snncc.passbase import Pass, PassContext, PassResult
from snncc.pipeline import PassManager, parse_pipeline, pipeline_spec
from snncc.registry import PASSES, TARGETS, Registry


@dataclasses.dataclass(frozen=True)
class ScaleWeights(Pass):
    """Multiplies every Affine weight (test pass with typed options)."""

    name = "scale-weights"
    factor: float = 1.0
    enabled: bool = True
    limit: int | None = None

    def run(self, graph, ctx):
        if not self.enabled or self.factor == 1.0:
            return PassResult(graph, False)
        new = graph.map_nodes(lambda n, node: node.replace(weight=node.weight * self.factor) if isinstance(node, ir.Affine) else node)
        return PassResult(new, new is not graph, {"scaled": [n for n in graph.nodes if isinstance(graph.nodes[n], ir.Affine)]})


@dataclasses.dataclass(frozen=True)
class BreakShapes(Pass):
    name = "break-shapes"

    def run(self, graph, ctx):
        return PassResult(graph.with_node("a", ir.Affine(weight=np.ones((2, 7)), bias=np.zeros(2))), True)


@pytest.fixture
def test_passes(monkeypatch):
    monkeypatch.setitem(PASSES._cache, "scale-weights", ScaleWeights)
    monkeypatch.setitem(PASSES._cache, "break-shapes", BreakShapes)


def graph():
    return ir.Graph.sequential(ir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)),
                               ir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2)), names=["a", "n"])


def test_parse_typed_options_and_print_back(test_passes):
    passes = parse_pipeline("scale-weights{factor=2.5,enabled=true,limit=3}, scale-weights")
    assert passes == [ScaleWeights(2.5, True, 3), ScaleWeights()]
    assert pipeline_spec(passes) == "scale-weights{factor=2.5,limit=3},scale-weights"
    assert parse_pipeline(pipeline_spec(passes)) == passes


@pytest.mark.parametrize("text,code", [("no-such-pass", "SNN303"), ("scale-weights{bogus=1}", "SNN304"),
                                       ("scale-weights{factor=abc}", "SNN304"), ("scale-weights{enabled=maybe}", "SNN304"),
                                       ("scale-weights{{", "SNN304")])
def test_pipeline_errors(test_passes, text, code):
    with pytest.raises(SnnccError) as err:
        parse_pipeline(text)
    assert err.value.diagnostics[0].code == code


def test_manager_records_changes_and_dumps(test_passes, tmp_path):
    passes = parse_pipeline("scale-weights{factor=2},scale-weights")
    out, records = PassManager(passes, dump_dir=str(tmp_path)).run(graph(), PassContext())
    assert out.nodes["a"].weight[0, 0] == 2.0
    assert [r.modified for r in records] == [True, False]
    assert records[0].changes == {"scaled": ["a"]}
    assert sorted(os.listdir(tmp_path)) == ["000_input.snnir", "001_scale-weights.snnir", "002_scale-weights.snnir"]
    assert "Affine" in (tmp_path / "001_scale-weights.snnir").read_text()


def test_unchanged_pass_returns_same_graph(test_passes):
    g = graph()
    out, _ = PassManager([ScaleWeights()]).run(g)
    assert out is g


def test_manager_verifies_after_each_pass_with_history(test_passes):
    with pytest.raises(SnnccError) as err:
        PassManager(parse_pipeline("scale-weights{factor=2},break-shapes")).run(graph())
    diagnostic = err.value.diagnostics[0]
    assert diagnostic.code == "SNN305" and diagnostic.pass_name == "break-shapes"
    assert "scale-weights" in diagnostic.message
    out, _ = PassManager(parse_pipeline("break-shapes"), verify_each=False).run(graph())
    assert out.nodes["a"].weight.shape == (2, 7)


def test_builtin_pass_names_match_their_files():
    for name in PASSES.names():
        cls = PASSES.get(name)
        assert cls.name == name
        module_file = sys.modules[cls.__module__].__file__
        assert os.path.basename(module_file) == name.replace("-", "_") + ".py"


def test_targets_have_plain_data_capabilities():
    for name in TARGETS.names():
        target = TARGETS.get(name)
        assert target.name == name
        assert dataclasses.is_dataclass(target.capabilities)
        parse_pipeline(target.default_pipeline)


def test_entry_point_plugin_is_discovered(tmp_path, monkeypatch):
    (tmp_path / "my_snncc_plugin.py").write_text(textwrap.dedent("""
        import dataclasses
        from snncc.passbase import Pass, PassResult
        @dataclasses.dataclass(frozen=True)
        class Noop(Pass):
            name = "plugin-noop"
            def run(self, graph, ctx):
                return PassResult(graph, False)
    """))
    dist = tmp_path / "my_snncc_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-snncc-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[snncc.passes]\nplugin-noop = my_snncc_plugin:Noop\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry("pass", "snncc.passes", "snncc.passes", PASSES._attribute)
    assert "plugin-noop" in registry.names()
    assert registry.get("plugin-noop").name == "plugin-noop"


def test_unknown_target_lists_available():
    with pytest.raises(SnnccError) as err:
        TARGETS.get("loihi3")
    assert err.value.diagnostics[0].code == "SNN303" and "reference" in err.value.diagnostics[0].hint
