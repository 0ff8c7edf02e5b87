"""The helpers snncc.lowering shares between the hardware targets' lowerings."""
import numpy as np

from snncc.ir import IF, Affine, Conv2d, Flatten, Graph, Input, IntParam, Linear, Quantization, SumPool2d
from snncc.lowering import declared_weight_bits, is_integral, layer_graph, require_state_scale, state_scale


def test_is_integral_relative_above_one_absolute_below_and_never_for_nan_or_inf():
    # 1e-6 of |x| above 1, 1e-6 below
    values = [3 + 2.5e-6, 3 + 3.5e-6, -0.9e-6, 1.1e-6, 1e5 + 0.09, 1e5 + 0.11, np.nan, np.inf]
    assert is_integral(values).tolist() == [True, False, True, False, True, False, False, False]
    # loose: 1e-3 absolute plus 1e-5 relative
    loose = is_integral([0.0009, 0.0011, 100.0019, 100.0021, 1e3 + 0.0105, 1e3 + 0.0115], rtol=1e-5, atol=1e-3)
    assert loose.tolist() == [True, False, True, False, True, False]


def test_state_scale_is_read_from_quant_extra_and_required_with_the_target_s_code():
    plain = IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2))
    quantized = plain.replace(quant=Quantization({}, {"state_scale": 0.25}))
    assert state_scale(quantized) == 0.25 and state_scale(plain) is None and state_scale(plain, 1.0) == 1.0
    problems = []
    assert require_state_scale("n", quantized, "SNN999", "hint", problems) == 0.25 and problems == []
    negative = plain.replace(quant=Quantization({}, {"state_scale": -1.0}))
    for node in (plain, negative):
        assert require_state_scale("n", node, "SNN999", "run quantize", problems) is None
    assert [(d.code, d.node, d.hint) for d in problems] == [("SNN999", "n", "run quantize")] * 2


def _conv_layers(*, pool=False, flatten=False, **conv_options):
    groups = conv_options.get("groups", 1)
    dilation = conv_options.get("dilation", (1, 1))[0]
    conv = Conv2d(weight=np.ones((4, 2 // groups, 3, 3)), bias=np.zeros(4), input_shape=(2, 4, 4) if pool else (2, 8, 8),
                  padding=(dilation, dilation), **conv_options)
    n = 4 * (4 if pool else 8) ** 2
    shape = (n,) if flatten else (4, 4, 4) if pool else (4, 8, 8)
    neuron = IF(r=np.ones(shape), v_threshold=np.ones(shape), v_reset=np.zeros(shape))
    nodes = [Input(shape=(2, 8, 8))] + ([SumPool2d(kernel_size=(2, 2), stride=(2, 2))] if pool else []) + [conv] \
        + ([Flatten(input_shape=(4, 8, 8))] if flatten else []) + [neuron]
    layers = layer_graph(Graph.sequential(*nodes))
    return layers, layers.into(layers.neurons()[0])[0], conv


def test_conv2d_is_the_chain_s_one_plain_convolution_besides_the_kinds_the_target_handles():
    layers, p, conv = _conv_layers()
    assert layers.conv2d(p) is conv
    layers, p, conv = _conv_layers(flatten=True)
    assert layers.conv2d(p) is None and layers.conv2d(p, ignoring=(Flatten,)) is conv
    layers, p, conv = _conv_layers(pool=True)
    assert layers.conv2d(p) is None and layers.conv2d(p, ignoring=(SumPool2d,)) is conv
    for options in ({"groups": 2}, {"dilation": (2, 2)}):
        layers, p, _ = _conv_layers(**options)
        assert layers.conv2d(p) is None, options


def _quantized(layer, bits, exp):
    return layer.replace(quant=Quantization({"weight": IntParam(np.asarray(layer.weight), 1.0, bits)},
                                            {"weight_exp": exp, "weight_bits": bits}))


def test_weight_exp_and_weight_bits_are_quantize_s_record_on_the_chain():
    fc = Affine(weight=np.ones((2, 3)), bias=np.zeros(2))
    neuron = IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2))
    plain = layer_graph(Graph.sequential(Input(shape=(3,)), fc, neuron))
    (p,) = plain.into(plain.neurons()[0])
    assert plain.weight_exp(p) == 0 and plain.weight_bits(p) is None and plain.weight_bits(p, 8) == 8
    layers = layer_graph(Graph.sequential(Input(shape=(3,)), _quantized(fc, 6, 3), neuron))
    (p,) = layers.into(layers.neurons()[0])
    assert layers.weight_exp(p) == 3 and layers.weight_bits(p, 8) == 6
    nodes = [_quantized(Linear(weight=np.ones((2, 2))), 4, 0), _quantized(fc, 12, 0), fc]
    assert declared_weight_bits(nodes, 8) == 12 and declared_weight_bits([fc], 8) == 8
