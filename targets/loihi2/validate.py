"""Range and structure checks of a :class:`NetSpec` against Lava / Loihi 2 limits.

Returns *every* violation as a :class:`snncc.diagnostics.Diagnostic`. Codes:

====== =====================================================================
SNN420 duplicate name (inputs, populations and connections share one namespace)
SNN421 connection endpoint unknown, or destination is not a LIF population
SNN422 array shape wrong (weights ``(dst, src)``, delays = weights, bias = size)
SNN423 non-integer value or non-positive size
SNN424 weight outside the 8-bit range of its sign mode (Lava would clip it)
SNN425 unknown sign mode
SNN426 num_weight_bits outside 1..8
SNN427 weight_exp outside -8..7
SNN428 du or dv outside 0..4095 (12-bit unsigned)
SNN429 vth outside 0..131071 (17-bit unsigned mantissa)
SNN430 bias_mant outside -4096..4095 (13-bit signed)
SNN431 bias_exp outside 0..7 (3-bit unsigned)
SNN432 delay outside 0..62 (6-bit field; NetX clamps to 62)
SNN433 (warning) weights lose low bits to truncation (num_weight_bits, mixed-sign LSB)
SNN439 v_init outside the saturated 24-bit v range -(2**23 - 1)..2**23 - 1
====== =====================================================================
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from snncc.diagnostics import Diagnostic, Severity
from snncc.targets.loihi2.netspec import SIGN_MODES, Connection, LifPopulation, NetSpec

__all__ = ["validate", "effective_sign_mode", "weight_range", "truncate_bits"]

WEIGHT_EXP_RANGE = (-8, 7)
DECAY_RANGE = (0, 4095)
VTH_RANGE = (0, 2**17 - 1)
BIAS_MANT_RANGE = (-(2**12), 2**12 - 1)
BIAS_EXP_RANGE = (0, 7)
DELAY_RANGE = (0, 62)
V_RANGE = (-(2**23 - 1), 2**23 - 1)


def effective_sign_mode(conn: Connection) -> str:
    """Lava's ``determine_sign_mode`` unless the spec fixes the mode."""
    if conn.sign_mode is not None:
        return conn.sign_mode
    w = conn.weights
    if w.size == 0 or w.min() >= 0:
        return "excitatory"
    if w.max() <= 0:
        return "inhibitory"
    return "mixed"


def weight_range(sign_mode: str) -> tuple[int, int]:
    """Values Lava's ``clip_weights(num_bits=8)`` leaves unchanged."""
    return {"mixed": (-256, 255), "excitatory": (0, 255), "inhibitory": (-255, 0)}[sign_mode]


def truncate_bits(sign_mode: str, num_weight_bits: int) -> int:
    """Low bits dropped by ``truncate_weights``: 8 - num_weight_bits + is_mixed."""
    return 8 - int(num_weight_bits) + int(sign_mode == "mixed")


def _is_int(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "iub"


def _out_of(arr: np.ndarray, lo: int, hi: int) -> np.ndarray:
    a = np.asarray(arr)
    return np.flatnonzero((a < lo) | (a > hi))


def _range_msg(what: str, arr: np.ndarray, bad: np.ndarray, lo: int, hi: int) -> str:
    flat = np.asarray(arr).ravel()
    return (f"{what} outside {lo}..{hi} at {bad.size} position(s), "
            f"e.g. flat index {int(bad[0])} = {flat[bad[0]]}")


def _check_population(p: LifPopulation, out: list[Diagnostic]) -> None:
    def add(code: str, msg: str, hint: str) -> None:
        out.append(Diagnostic(code, msg, node=p.name, hint=hint))

    if int(p.size) <= 0:
        add("SNN423", f"population size must be positive, got {p.size}", "drop empty layers")
    for name in ("du", "dv"):
        value = getattr(p, name)
        if not float(value).is_integer():
            add("SNN423", f"{name}={value} is not an integer", "quantise decays to 12 bits")
        elif not DECAY_RANGE[0] <= int(value) <= DECAY_RANGE[1]:
            add("SNN428", f"{name}={value} outside 0..4095 (12-bit unsigned)",
                "du/dv are decay fractions times 4096, clamp to 0..4095")
    if not float(p.vth).is_integer():
        add("SNN423", f"vth={p.vth} is not an integer", "quantise the threshold mantissa")
    elif not VTH_RANGE[0] <= int(p.vth) <= VTH_RANGE[1]:
        add("SNN429", f"vth={p.vth} outside 0..131071 (17-bit unsigned mantissa)",
            "scale weights and threshold down together (e.g. raise weight_exp)")
    for name, (lo, hi), code, hint in (
        ("bias_mant", BIAS_MANT_RANGE, "SNN430", "move magnitude into bias_exp"),
        ("bias_exp", BIAS_EXP_RANGE, "SNN431", "use a mantissa/exponent pair with exp in 0..7"),
        ("v_init", V_RANGE, "SNN439", "v is 24 bits and saturates: a smaller initial state or threshold offset"),
    ):
        arr = getattr(p, name)
        if arr.shape != (int(p.size),):
            add("SNN422", f"{name} shape {arr.shape} != ({p.size},)", "one value per neuron")
        elif not _is_int(arr):
            add("SNN423", f"{name} is not integer ({arr.dtype})", "quantise before lowering")
        else:
            bad = _out_of(arr, lo, hi)
            if bad.size:
                add(code, _range_msg(name, arr, bad, lo, hi), hint)


def _check_connection(c: Connection, spec: NetSpec, out: list[Diagnostic]) -> None:
    def add(code: str, msg: str, hint: str, severity: Severity = Severity.ERROR) -> None:
        out.append(Diagnostic(code, msg, node=c.name, hint=hint, severity=severity))

    src_size = spec.source_size(c.src)
    dst_pops = [p for p in spec.populations if p.name == c.dst]
    if src_size is None:
        add("SNN421", f"source '{c.src}' is not an input or population", "check the names")
    if not dst_pops:
        add("SNN421", f"destination '{c.dst}' is not a LIF population",
            "connections must end on a LIF population")
    w = c.weights
    if w.ndim != 2:
        add("SNN422", f"weights must be 2-D (dst, src), got shape {w.shape}", "reshape")
        return
    if src_size is not None and dst_pops and w.shape != (dst_pops[0].size, src_size):
        add("SNN422", f"weights shape {w.shape} != (dst, src) = ({dst_pops[0].size}, {src_size})",
            "Lava weights are (num_out, num_in)")
    if c.delays is not None and c.delays.shape != w.shape:
        add("SNN422", f"delays shape {c.delays.shape} != weights shape {w.shape}",
            "one delay per synapse")
    nwb_ok = float(c.num_weight_bits).is_integer() and 1 <= int(c.num_weight_bits) <= 8
    if not nwb_ok:
        add("SNN426", f"num_weight_bits={c.num_weight_bits} outside 1..8",
            "Loihi weights are 1-8 bit")
    if not (float(c.weight_exp).is_integer()
            and WEIGHT_EXP_RANGE[0] <= int(c.weight_exp) <= WEIGHT_EXP_RANGE[1]):
        add("SNN427", f"weight_exp={c.weight_exp} outside -8..7",
            "rescale the threshold instead of the weight exponent")
    if c.sign_mode is not None and c.sign_mode not in SIGN_MODES:
        add("SNN425", f"sign_mode {c.sign_mode!r} not one of {SIGN_MODES}", "or None to infer")
        return
    if not _is_int(w):
        add("SNN423", f"weights are not integer ({w.dtype})", "quantise weights before lowering")
        return
    mode = effective_sign_mode(c)
    lo, hi = weight_range(mode)
    bad = _out_of(w, lo, hi)
    if bad.size:
        add("SNN424", _range_msg(f"{mode} weights", w, bad, lo, hi),
            "Lava clips silently: raise weight_exp and halve the weights")
    elif nwb_ok and w.size:
        k = truncate_bits(mode, int(c.num_weight_bits))
        mag = -w if mode == "inhibitory" else w
        lost = np.count_nonzero(((mag >> k) << k) != mag)
        if lost:
            add("SNN433", f"{lost} weight(s) lose their low {k} bit(s) to truncation "
                f"({mode}, num_weight_bits={c.num_weight_bits})",
                "use multiples of 2**k (mixed sign always drops the LSB)", Severity.WARNING)
    if c.delays is not None:
        if not _is_int(c.delays):
            add("SNN423", f"delays are not integer ({c.delays.dtype})", "delays count steps")
        else:
            bad = _out_of(c.delays, *DELAY_RANGE)
            if bad.size:
                add("SNN432", _range_msg("delays", c.delays, bad, *DELAY_RANGE),
                    "split long delays through relay neurons")


def validate(spec: NetSpec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    names = [x.name for x in (*spec.inputs, *spec.populations, *spec.connections)]
    for name, count in sorted(Counter(names).items()):
        if count > 1:
            out.append(Diagnostic("SNN420", f"name '{name}' used {count} times", node=name,
                                  hint="inputs, populations and connections need unique names"))
    for port in spec.inputs:
        if int(port.size) <= 0:
            out.append(Diagnostic("SNN423", f"input size must be positive, got {port.size}",
                                  node=port.name, hint="drop empty inputs"))
    for pop in spec.populations:
        _check_population(pop, out)
    for conn in spec.connections:
        _check_connection(conn, spec, out)
    return out
