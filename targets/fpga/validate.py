"""Target-limit checks for :class:`NetSpec`: every violation is reported (SNN4xx), and
the emitter refuses to write anything while any remain.

Codes: SNN401 widths, SNN402 weights out of range, SNN403 threshold/bias/reset out of
range, SNN404 folding (PE/SIMD), SNN405 accumulator overflow possible, SNN406 leak
parameters, SNN407 shapes/chain, SNN408 unknown mode, SNN409 memory depth, SNN410 values
that are not integers (floats with a fraction, NaN, inf) and would be truncated silently.
"""
from __future__ import annotations

import numpy as np

from snncc.diagnostics import Diagnostic

from . import contract as C
from .netspec import LayerSpec, NetSpec, row_sums


def _range_diag(code: str, layer: str, what: str, values: np.ndarray, bits: int,
                hint: str) -> list[Diagnostic]:
    lo, hi = C.int_range(bits)
    bad = np.flatnonzero((values < lo) | (values > hi))
    if bad.size == 0:
        return []
    i = int(bad[0])
    msg = (f"{bad.size} {what} value(s) outside the {bits}-bit range [{lo}, {hi}], "
           f"first at flat index {i}: {int(values.reshape(-1)[i])}")
    return [Diagnostic(code, msg, node=layer, hint=hint)]


def _check_integral(l: LayerSpec) -> list[Diagnostic]:
    out = []
    for what, value in (("weights", l.weights), ("recurrent", l.recurrent),
                        ("threshold", l.threshold), ("bias", l.bias),
                        ("leak.param", l.leak.param), ("reset_value", l.reset_value)):
        if value is None:
            continue
        a = np.asarray(value)
        if a.dtype.kind in "biu":
            continue
        if a.dtype.kind != "f":
            out.append(Diagnostic("SNN410", f"{what} has dtype {a.dtype}, expected integers",
                                  node=l.name))
            continue
        bad = ~np.isfinite(a) | (a != np.round(a))
        if bad.any():
            out.append(Diagnostic("SNN410", f"{int(bad.sum())} {what} value(s) are not integers",
                                  node=l.name, hint="quantize first (FPGA parameters are ints)"))
    return out


def _check_widths(l: LayerSpec) -> list[Diagnostic]:
    out = []
    for attr, (lo, hi) in (("w_bits", C.W_BITS_RANGE), ("v_bits", C.V_BITS_RANGE),
                           ("acc_bits", C.ACC_BITS_RANGE)):
        val = getattr(l, attr)
        if not lo <= val <= hi:
            out.append(Diagnostic("SNN401", f"{attr}={val} outside the supported {lo}..{hi}",
                                  node=l.name, hint=f"choose {attr} in {lo}..{hi}"))
    return out


def _check_modes(l: LayerSpec) -> list[Diagnostic]:
    out = []
    for attr, allowed in (("reset", C.RESET_MODES), ("comparator", C.COMPARATORS)):
        if getattr(l, attr) not in allowed:
            out.append(Diagnostic("SNN408", f"{attr}={getattr(l, attr)!r} not supported",
                                  node=l.name, hint=f"use one of {allowed}"))
    if l.engine not in ("dense", "conv"):
        out.append(Diagnostic("SNN408", f"engine={l.engine!r} not supported", node=l.name,
                              hint="use 'dense' or, for conv layers, 'conv'"))
    elif l.engine == "conv" and (l.conv is None or l.recurrent is not None):
        out.append(Diagnostic("SNN408", "engine='conv' needs a conv layer without recurrence",
                              node=l.name, hint="use engine='dense'"))
    if l.leak.kind not in C.LEAK_KINDS:
        out.append(Diagnostic("SNN408", f"leak kind {l.leak.kind!r} not supported",
                              node=l.name, hint=f"use one of {C.LEAK_KINDS}"))
    return out


def _check_shapes(l: LayerSpec, n_in: int) -> list[Diagnostic]:
    w = np.asarray(l.weights)
    want_nd = 4 if l.conv is not None else 2
    if w.ndim != want_nd:
        return [Diagnostic("SNN407", f"weights have {w.ndim} dims, expected {want_nd}",
                           node=l.name, hint="dense: (N_out, N_in); conv: (Cout, Cin, kh, kw)")]
    out = []
    if l.conv is not None and w.shape[1] != l.conv.in_shape[0]:
        out.append(Diagnostic("SNN407", f"conv weights Cin={w.shape[1]} but input has "
                              f"{l.conv.in_shape[0]} channels", node=l.name))
    if l.conv is not None and min(l.out_shape) < 1:
        out.append(Diagnostic("SNN407", f"conv output shape {l.out_shape} is empty", node=l.name))
        return out
    if l.recurrent is not None and np.asarray(l.recurrent).shape != (l.n_out, l.n_out):
        out.append(Diagnostic("SNN407", f"recurrent weights have shape "
                              f"{np.asarray(l.recurrent).shape}, expected ({l.n_out}, {l.n_out})",
                              node=l.name))
    if l.n_in != n_in:
        out.append(Diagnostic("SNN407", f"layer expects {l.n_in} inputs but receives {n_in}",
                              node=l.name, hint="layers form a chain: n_in == previous n_out"))
    for what, val in (("threshold", l.threshold), ("bias", l.bias), ("leak.param", l.leak.param)):
        a = np.asarray(val)
        per_channel = l.conv is not None and a.shape == (l.out_shape[0],)
        size = l.n_out if a.ndim == 0 or per_channel else a.size
        if size != l.n_out:
            out.append(Diagnostic("SNN407", f"{what} has {size} values for {l.n_out} neurons",
                                  node=l.name, hint="give a scalar, one per neuron or per channel"))
    return out


def _check_values(l: LayerSpec) -> list[Diagnostic]:
    out = []
    w = np.asarray(l.weights, dtype=np.int64)
    out += _range_diag("SNN402", l.name, "weight", w, l.w_bits,
                       "re-quantize with fewer levels or raise w_bits (max 16)")
    if l.recurrent is not None:
        out += _range_diag("SNN402", l.name, "recurrent weight",
                           np.asarray(l.recurrent, dtype=np.int64), l.w_bits,
                           "re-quantize with fewer levels or raise w_bits (max 16)")
    hint = "rescale thresholds/weights or raise v_bits (max 24)"
    out += _range_diag("SNN403", l.name, "threshold", l.thresholds(), l.v_bits, hint)
    out += _range_diag("SNN403", l.name, "bias", l.biases(), l.v_bits, hint)
    out += _range_diag("SNN403", l.name, "reset_value", np.array([l.reset_value]), l.v_bits, hint)
    if not out:  # acc bound only meaningful on in-range weights
        neg, pos = l.synaptic_range()
        lo, hi = C.int_range(l.acc_bits)
        if pos > hi or neg < lo:
            out.append(Diagnostic(
                "SNN405", f"synaptic sum can reach [{neg}, {pos}], beyond the {l.acc_bits}-bit "
                "accumulator", node=l.name, hint=f"set acc_bits >= {C.signed_bits(neg, pos)}"))
    return out


def _check_leak(l: LayerSpec) -> list[Diagnostic]:
    if l.leak.kind not in ("shift", "mul"):
        return []
    p = l.leak_params()
    if l.leak.kind == "shift":
        bad = (p < 0) | (p >= l.v_bits)
        msg, hint = f"shift leak k outside 0..{l.v_bits - 1}", "k = 0 clears v each step"
    else:
        f = l.leak.frac_bits
        if not C.MUL_FRAC_RANGE[0] <= f <= C.MUL_FRAC_RANGE[1]:
            return [Diagnostic("SNN406", f"mul leak frac_bits={f} outside {C.MUL_FRAC_RANGE}",
                               node=l.name)]
        bad = (p < 0) | (p > (1 << f))
        msg, hint = f"mul leak m outside [0, 2^{f}]", "beta = m / 2^f must lie in [0, 1]"
    if bad.any():
        return [Diagnostic("SNN406", f"{int(bad.sum())} {msg}", node=l.name, hint=hint)]
    return []


def _check_folding(l: LayerSpec, max_depth: int) -> list[Diagnostic]:
    if l.engine == "conv" and l.conv is not None:
        return _check_conv_folding(l, max_depth)
    out = []
    if l.pe < 1 or l.n_out % l.pe:
        out.append(Diagnostic("SNN404", f"PE={l.pe} does not divide N_out={l.n_out}",
                              node=l.name, hint="pick a divisor of N_out (see folding.divisors)"))
    if l.simd < 1 or l.simd > l.n_cols:
        out.append(Diagnostic("SNN404", f"SIMD={l.simd} outside 1..{l.n_cols} (inputs"
                              " + recurrent)", node=l.name))
    if l.pe >= 1 and l.n_out % l.pe == 0:
        depth = (l.n_out // l.pe) * l.n_cols
        if depth > max_depth:
            out.append(Diagnostic("SNN409", f"weight memory depth {depth} exceeds {max_depth}",
                                  node=l.name, hint="raise PE to shorten the memory"))
    return out


def _check_conv_folding(l: LayerSpec, max_depth: int) -> list[Diagnostic]:
    cout, cin, kh, kw = np.asarray(l.weights).shape
    out = []
    if l.pe < 1 or cout % l.pe:
        out.append(Diagnostic("SNN404", f"PE={l.pe} does not divide Cout={cout}", node=l.name,
                              hint="the conv engine's PE lanes are output channels"))
    if l.simd != 1:
        out.append(Diagnostic("SNN404", f"SIMD={l.simd}: the conv engine takes SIMD=1",
                              node=l.name, hint="one kernel offset per cycle"))
    (sh, sw), (ph, pw) = l.conv.stride, l.conv.padding
    if min(sh, sw) < 1 or min(ph, pw) < 0 or ph >= kh or pw >= kw:
        out.append(Diagnostic("SNN404", f"stride {l.conv.stride} / padding {l.conv.padding} "
                              f"unsupported for a {kh}x{kw} kernel", node=l.name,
                              hint="stride >= 1 and 0 <= padding < kernel"))
    if l.n_out > max_depth or cin * kh * kw * cout > max_depth:
        out.append(Diagnostic("SNN409", f"conv memories exceed depth {max_depth}", node=l.name))
    return out


def validate_netspec(spec: NetSpec) -> list[Diagnostic]:
    """All violations of the FPGA limits, in layer order; empty means emittable."""
    out: list[Diagnostic] = []
    if not spec.layers:
        return [Diagnostic("SNN407", "network has no layers")]
    n_in = spec.n_in
    for l in spec.layers:
        out += _check_widths(l) + _check_modes(l)
        integral = _check_integral(l)
        shape_diags = _check_shapes(l, n_in)
        out += integral + shape_diags
        if not shape_diags and not integral:  # int casts would hide non-integers
            out += _check_values(l) + _check_leak(l) + _check_folding(l, spec.max_mem_depth)
        n_in = l.n_out
    return out


def required_acc_bits(dense: np.ndarray) -> int:
    """Smallest signed accumulator width that holds every partial synaptic sum of the
    (N_out, N_cols) matrix ``dense``."""
    neg, pos = row_sums(dense)
    return C.signed_bits(int(neg.min(initial=0)), int(pos.max(initial=0)))
