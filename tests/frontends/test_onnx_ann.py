"""ANN -> SNN conversion of trained ONNX models, judged against onnxruntime on the real ANN."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from snncc.ir import IF, Affine, Comparator, Conv2d, I, Linear, ResetMode
from snncc.frontends.onnx_ann import ann_to_snn, encode_constant, rate_readout
from snncc.loading import import_file
from snncc.runtime import simulate

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ann_to_snn"


def load_example(name: str):
    if str(EXAMPLE) not in sys.path:
        sys.path.insert(0, str(EXAMPLE))  # nir_paper_ann imports train_ann as a sibling
    return sys.modules[name] if name in sys.modules else import_file(EXAMPLE / f"{name}.py", name)


def ann_outputs(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})[0]


def snn_estimate(graph, x: np.ndarray, steps: int) -> np.ndarray:
    """Rate-coded SNN output after every step [B, steps, ...] (reference simulator, float32)."""
    return rate_readout(simulate(graph, encode_constant(x, steps), dtype=torch.float32).output.numpy())


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    trained = load_example("train_ann").train(tmp_path_factory.mktemp("digits"), seed=0)
    x, y = np.load(trained.x_test), np.load(trained.y_test)
    return trained, np.load(trained.calibration), x, y, ann_outputs(trained.onnx_path, x)


def test_digits_snn_agrees_with_ann_at_64_steps(digits):
    trained, calibration, x, y, ann = digits
    assert (ann.argmax(1) == y).mean() >= 0.95, "the ANN itself must be trained"
    graph = ann_to_snn(trained.onnx_path, calibration)
    kinds = [n.kind for n in graph.nodes.values()]
    assert kinds.count("IF") == 3 and kinds.count("I") == 1
    estimate = snn_estimate(graph, x, 64)
    agreement = (estimate[:, 63].argmax(1) == ann.argmax(1)).mean()
    assert agreement >= 0.97, agreement
    error = np.abs(estimate - ann[:, None]).mean(axis=(0, 2))  # per step
    assert error[63] < error[7] / 4 and error[63] < error[31] < error[15], error[[7, 15, 31, 63]]


def test_per_channel_thresholds(digits):
    trained, calibration, x, _, ann = digits
    graph = ann_to_snn(trained.onnx_path, calibration, per_channel=True, percentile=99.0)
    scales = graph.metadata["activation_scales"]
    assert sorted(len(v) for v in scales.values()) == [16, 32, 64]  # conv channels and FC units
    estimate = snn_estimate(graph, x[:120], 64)[:, 63]
    assert (estimate.argmax(1) == ann[:120].argmax(1)).mean() >= 0.95


def gemm_model(w1, b1, w2, b2):
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(a.astype(np.float32), n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["a"], name="relu1"),
        helper.make_node("Dropout", ["a"], ["d"], name="drop"),
        helper.make_node("MatMul", ["d", "w2"], ["m"], name="fc2"),
        helper.make_node("Add", ["m", "b2"], ["y"], name="bias2"),
    ]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", w1.shape[1]])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", w2.shape[1]])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_threshold_balancing_scales_weights_by_the_activation_percentile():
    rng = np.random.default_rng(0)
    w1, b1, w2, b2 = rng.normal(size=(6, 4)), rng.normal(size=6) * 0.1, rng.normal(size=(6, 3)), rng.normal(size=3)
    calibration = rng.uniform(0, 1, (400, 4)).astype(np.float32)
    graph = ann_to_snn(gemm_model(w1, b1, w2, b2), calibration, percentile=95.0)
    hidden = np.maximum(calibration.astype(np.float64) @ w1.T + b1, 0)
    lam = np.percentile(hidden[hidden > 0], 95.0)
    fc1, neuron, fc2, readout = (graph.nodes[n] for n in graph.nodes if n not in ("input", "y"))
    assert isinstance(fc1, Affine) and isinstance(neuron, IF) and isinstance(fc2, Affine) and isinstance(readout, I)
    np.testing.assert_allclose(fc1.weight, w1 / lam, rtol=1e-5)
    np.testing.assert_allclose(fc1.bias, b1 / lam, rtol=1e-5)
    np.testing.assert_allclose(fc2.weight, w2.T * lam, rtol=1e-5)
    np.testing.assert_allclose(fc2.bias, b2, rtol=1e-6)
    assert np.all(neuron.v_threshold == 1) and np.all(neuron.v_reset == 0) and np.all(neuron.r == 1)
    assert neuron.reset is ResetMode.SUBTRACT and neuron.comparator is Comparator.GE


def test_if_with_ge_counts_floor_of_t_times_input():
    """The documented comparator choice: constant drive x in [0, 1] gives floor(t x) spikes after t steps."""
    w1, b1 = np.eye(4), np.zeros(4)
    graph = ann_to_snn(gemm_model(w1, b1, np.eye(4), np.zeros(4)), np.array([[0.25, 0.5, 0.7, 1.0]] * 2), percentile=100)
    x = np.array([[0.0, 0.25, 0.375, 1.0]], np.float32)
    spikes = simulate(graph, encode_constant(x, 20)).spikes[next(n for n in graph.nodes if n.startswith("if"))]
    counts = spikes.numpy()[0].cumsum(0)
    t = np.arange(1, 21)[:, None]
    np.testing.assert_array_equal(counts, np.floor(t * x[0] + 1e-9))


def residual_cnn() -> torch.nn.Module:
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = torch.nn.Sequential(torch.nn.Conv2d(2, 6, 3, padding=1), torch.nn.BatchNorm2d(6), torch.nn.ReLU())
            self.branch = torch.nn.Sequential(torch.nn.Conv2d(6, 6, 3, padding=1), torch.nn.ReLU(),
                                              torch.nn.Conv2d(6, 6, 3, padding=1))
            self.pool = torch.nn.AvgPool2d(3, stride=2, padding=1)
            self.head = torch.nn.Linear(6 * 5 * 5, 4)

        def forward(self, x):
            h = self.stem(x)
            h = torch.relu(h + self.branch(h))
            return self.head(self.pool(h).reshape(-1, 6 * 5 * 5))

    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():  # non-trivial BN statistics
        bn = net.stem[1]
        bn.running_mean.uniform_(-0.2, 0.2), bn.running_var.uniform_(0.5, 2), bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(0, 0.3)
    return net.eval()


def test_residual_cnn_with_unfused_batchnorm_and_reshape(tmp_path):
    path = tmp_path / "residual.onnx"
    torch.onnx.export(residual_cnn(), torch.zeros(1, 2, 9, 9), str(path), opset_version=17, dynamo=False,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,
                      dynamic_axes={"input": {0: "n"}}, input_names=["input"])
    import onnx

    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert "BatchNormalization" in ops and "AveragePool" in ops and "Reshape" in ops and ops.count("Add") >= 1
    rng = np.random.default_rng(1)
    calibration, x = rng.uniform(0, 1, (200, 2, 9, 9)), rng.uniform(0, 1, (40, 2, 9, 9)).astype(np.float32)
    graph = ann_to_snn(path, calibration, percentile=99.99)
    assert not any(n.kind == "BatchNorm" for n in graph.nodes.values()), "BN must be folded into the stem conv"
    ann = ann_outputs(path, x)
    estimate = snn_estimate(graph, x, 256)
    error = np.abs(estimate - ann[:, None]).mean(axis=(0, 2)) / np.abs(ann).mean()
    assert error[255] < 0.05 and error[255] < error[31] / 4, error[[31, 255]]


def test_nir_paper_ann_converts_and_agrees(tmp_path, paper):
    module = load_example("nir_paper_ann")
    path = module.export(tmp_path, paper("02_cnn", "ann_pretraining", "pretrained_ann_weights.pth"))
    calibration, _ = module.event_frames(200, seed=1)
    x, _ = module.event_frames(60, seed=2)
    graph = ann_to_snn(path, calibration)
    convs = [n for n in graph.nodes.values() if isinstance(n, Conv2d)]
    assert [c.stride for c in convs] == [(2, 2), (1, 1), (1, 1)] and [c.weight.shape[0] for c in convs] == [16, 16, 8]
    assert sum(isinstance(n, IF) for n in graph.nodes.values()) == 4
    assert sum(isinstance(n, Linear) for n in graph.nodes.values()) == 2  # no biases in the paper's ANN
    ann = ann_outputs(path, x)
    estimate = snn_estimate(graph, x, 64)
    agreement = (estimate[:, 63].argmax(1) == ann.argmax(1)).mean()
    error = np.abs(estimate - ann[:, None]).mean(axis=(0, 2))
    assert agreement >= 0.85 and error[63] < error[7] / 3, (agreement, error[[7, 63]])


def test_grouped_conv1d_and_relu_on_the_input(tmp_path):
    """A ReLU straight on the input (Scale + IF), a grouped Conv1d, per-channel scales through it."""
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Conv1d(3, 6, 3, groups=3), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(6 * 8, 4)).eval()
    path = tmp_path / "conv1d.onnx"
    torch.onnx.export(net, torch.zeros(1, 3, 10), str(path), opset_version=17, dynamo=False,
                      input_names=["input"], dynamic_axes={"input": {0: "n"}})
    rng = np.random.default_rng(2)
    calibration, x = rng.uniform(-1, 1, (300, 3, 10)), rng.uniform(-1, 1, (30, 3, 10)).astype(np.float32)
    graph = ann_to_snn(path, calibration, per_channel=True, percentile=100)
    kinds = [n.kind for n in graph.nodes.values()]
    assert kinds[:4] == ["Input", "Scale", "IF", "Conv1d"]
    assert [n.groups for n in graph.nodes.values() if n.kind == "Conv1d"] == [3]
    ann = ann_outputs(path, x)
    error = np.abs(snn_estimate(graph, x, 256) - ann[:, None]).mean(axis=(0, 2)) / np.abs(ann).mean()
    assert error[255] < 0.05 and error[255] < error[15] / 4, error[[15, 255]]


def test_converted_digits_snn_exports_as_an_onnx_step(digits, tmp_path):
    """ANN in, SNN step out: onnxruntime stepping the converted SNN tracks the reference simulator.

    Trained (non-dyadic) weights: Conv/Gemm may round differently from PyTorch in the last bit,
    so a spike exactly at threshold could flip; allow 1e-4 of them (0 observed)."""
    from snncc.runtime.onnx_export import export_step_onnx, run_step_model

    trained, calibration, x, _, _ = digits
    graph = ann_to_snn(trained.onnx_path, calibration)
    drive = encode_constant(x[:40], 32)
    ran = run_step_model(export_step_onnx(graph, tmp_path / "digits_step.onnx"), drive)
    ref = simulate(graph, drive, dtype=torch.float32)
    for name, spikes in ref.spikes.items():
        assert (ran.spikes[name] != spikes.numpy()).mean() <= 1e-4, name
    np.testing.assert_allclose(ran.outputs["logits"], ref.output.numpy(), rtol=1e-4, atol=1e-4)
