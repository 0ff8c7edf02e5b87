"""Backends of the ``loihi2`` target (see snncc.runtime.backend): ``golden`` (snncc's
bit-exact integer model), ``lava`` (the generated OUT/loihi2/network.py on Lava's CPU
fixed-point models) and ``hw`` (the same module with ``Loihi2HwCfg``).

Every backend reads the artifact through the generated module's own ``load()``, so the
files that are tested are the files that ship. Population ``p`` runs ``lag[p]`` steps
behind the reference simulator (one step per synapse), so the input is padded with
``max_lag`` silent steps and ``spikes`` are shifted back by ``lag[p]``; ``raw`` keeps the
unshifted ``[B, T + max_lag, N]``. Final states (``record_state``) are Lava's ``u`` and
``v`` of each IR node at its reference step ``T - 1`` (Lava step ``T + lag``), in Lava
units: real ``v = v * state_scale[node]``; ``extra["state_scales"]`` gives ``u``'s too.
"""
from __future__ import annotations

import importlib.util
import os
import time
from typing import Any

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.runtime.backend import Artifact, RunResult
from snncc.targets.loihi2.netspec import Connection, InputPort, LifPopulation, NetSpec

__all__ = ["run_golden", "run_lava", "run_hw", "generated_module", "golden_spec", "netspec_of",
           "padded_input"]

_MODULES: dict[tuple[str, float], Any] = {}
#: the last artifact's NetSpec (building and preparing a large one takes seconds)
_SPEC: dict[tuple, NetSpec] = {}


def generated_module(folder: str) -> Any:
    """Import ``folder/network.py`` (the emitted module), cached per file version."""
    path = os.path.join(folder, "network.py")
    if not os.path.isfile(path):
        raise SnnccError.single("SNN601", "no Loihi 2 network module", file=path,
                                hint="compile for the loihi2 target first")
    key = (os.path.abspath(path), os.path.getmtime(path))
    if key not in _MODULES:
        spec = importlib.util.spec_from_file_location(f"snncc_loihi2_network_{len(_MODULES)}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        _MODULES[key] = module
    return _MODULES[key]


def netspec_of(module: Any, meta: dict, arrays: dict[str, np.ndarray]) -> NetSpec:
    """The :class:`NetSpec` the golden simulator runs, from the emitted files."""
    inputs = tuple(InputPort(p["name"], p["size"]) for p in meta["inputs"])
    pops = tuple(LifPopulation(p["name"], p["size"], p["du"], p["dv"], p["vth"],
                               arrays[f"{p['name']}.bias_mant"].astype(np.int64),
                               arrays[f"{p['name']}.bias_exp"].astype(np.int64))
                 for p in meta["processes"])
    conns = tuple(Connection(c["name"], c["src"], c["dst"], module.matrix(c, arrays),
                             c["num_weight_bits"], c["weight_exp"], c["sign_mode"],
                             module.matrix(c, arrays, "delays") if c["delays"] else None,
                             c["sparse"])
                  for c in meta["connections"])
    return NetSpec(inputs, pops, conns)


def golden_spec(folder: str) -> tuple[Any, dict, dict[str, np.ndarray], NetSpec]:
    """(module, meta, arrays, NetSpec) of an emitted folder, the spec cached per file version."""
    module = generated_module(folder)
    meta, arrays = module.load(folder)
    key = tuple((f, os.path.getmtime(os.path.join(folder, f)), os.path.getsize(os.path.join(folder, f)))
                for f in ("network.json", "params.npz")) + (os.path.abspath(folder),)
    if key not in _SPEC:
        _SPEC.clear()
        spec = netspec_of(module, meta, arrays)
        spec.check()  # the files may have been edited since emit validated them
        _SPEC[key] = spec
    return module, meta, arrays, _SPEC[key]


def padded_input(meta: dict, x: np.ndarray) -> tuple[str, np.ndarray, int]:
    """(port, binary int8 [B, T + max_lag, n], T); SNN511 for anything but 0/1 spikes."""
    if len(meta["inputs"]) != 1:
        raise SnnccError.single("SNN511", f"the network has {len(meta['inputs'])} inputs; the "
                                "backends take one")
    port = meta["inputs"][0]
    x = np.asarray(x)
    if x.ndim < 2 or int(np.prod(x.shape[2:])) != port["size"]:
        raise SnnccError.single("SNN511", f"input must be [B, T, ...] with {port['size']} values "
                                f"per step, got shape {x.shape}", node=port["ir"],
                                hint="pass [B, T, *input_shape]")
    if not np.isin(x, (0, 1)).all():
        bad = x[~np.isin(x, (0, 1))].ravel()[0]
        raise SnnccError.single(
            "SNN511", f"Loihi 2 inputs are binary spikes; the input holds {bad!r}", node=port["ir"],
            hint="encode the input as 0/1 spikes (e.g. rate coding) before running on loihi2")
    batch, steps = x.shape[:2]
    padded = np.zeros((batch, steps + meta["max_lag"], port["size"]), np.int8)
    padded[:, :steps] = x.reshape(batch, steps, -1)
    return port["name"], padded, steps


def _assemble(meta: dict, arrays: dict, per_proc: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per IR node, the processes' arrays put back in the node's neuron order."""
    out = {}
    for node in meta["nodes"]:
        first = per_proc[node["processes"][0]]
        full = np.zeros((*first.shape[:-1], node["size"]), first.dtype)
        for proc in node["processes"]:
            full[..., arrays[f"{proc}.neurons"]] = per_proc[proc]
        out[node["ir"]] = full
    return out


def _result(backend: str, meta: dict, arrays: dict, spikes: dict[str, np.ndarray], steps: int,
            states: dict[str, dict[str, np.ndarray]] | None, extra: dict) -> RunResult:
    raw = {k: v.astype(np.uint8) for k, v in _assemble(meta, arrays, spikes).items()}
    lags = {n["ir"]: n["lag"] for n in meta["nodes"]}
    aligned = {k: v[:, lags[k]:lags[k] + steps] for k, v in raw.items()}
    batch = next(iter(raw.values())).shape[0] if raw else 0
    output = (aligned[meta["output"]["reads"]] if meta["output"]
              else np.zeros((batch, steps, 0), np.uint8))
    node_states, scales = {}, {}
    if states is not None:
        u = _assemble(meta, arrays, states["u"])
        v = _assemble(meta, arrays, states["v"])
        for node in meta["nodes"]:
            name = node["ir"]
            node_states[name] = {"u": u[name], "v": v[name]}
            if node["kind"] == "CubaLIF":
                node_states[name]["i"] = u[name]
            scales[name] = node["v_scale"]
    extra = {"lags": lags, "steps_run": steps + meta["max_lag"],
             "state_scales": {n["ir"]: {"v": n["v_scale"], "u": n["u_scale"]} for n in meta["nodes"]},
             **extra}
    return RunResult(backend, aligned, output, node_states, scales, extra=extra, raw=raw)


def run_golden(artifact: Artifact, x: np.ndarray, *, record_state: bool = False,
               trace: bool = False) -> RunResult:
    """snncc's bit-exact model of Lava's fixed-point processes. ``trace``: also return the
    unshifted ``u``/``v`` after every step in ``extra["trace"]`` (per IR node,
    ``[B, T + max_lag, N]``)."""
    from snncc.targets.loihi2.golden import simulate

    _, meta, arrays, spec = golden_spec(artifact.folder())
    port, padded, steps = padded_input(meta, x)
    start = time.perf_counter()
    gold = simulate(spec, {port: padded}, record_uv=record_state or trace, check=False,
                    bias_start={p: _lag_of(meta, p) for p in (x["name"] for x in meta["processes"])})
    seconds = time.perf_counter() - start
    states, extra = None, {}
    if record_state:
        at = {p: steps - 1 + _lag_of(meta, p) for p in gold.spikes}
        states = {"u": {p: gold.u_trace[p][:, at[p]] for p in at},
                  "v": {p: gold.v_trace[p][:, at[p]] for p in at}}
    if trace:
        extra["trace"] = {name: {"u": u, "v": v} for (name, u), v in
                          zip(_assemble(meta, arrays, gold.u_trace).items(),
                              _assemble(meta, arrays, gold.v_trace).values())}
    result = _result("golden", meta, arrays, gold.spikes, steps, states, extra)
    result.seconds = seconds
    return result


def _lag_of(meta: dict, process: str) -> int:
    return next(n["lag"] for n in meta["nodes"] if process in n["processes"])


def run_lava(artifact: Artifact, x: np.ndarray, *, record_state: bool = False,
             hardware: bool = False) -> RunResult:
    """The generated module on Lava (``Loihi2SimCfg(select_tag="fixed_pt")``), one sample per run."""
    if importlib.util.find_spec("lava") is None:
        raise SnnccError.single("SNN512", "the lava backend needs lava-nc",
                                hint="pip install lava-nc==0.10.0")
    module = generated_module(artifact.folder())
    meta, arrays = module.load(artifact.folder())
    port, padded, steps = padded_input(meta, x)
    stops = {p: steps + _lag_of(meta, p) for n in meta["nodes"] for p in n["processes"]}
    start = time.perf_counter()
    runs = [module.run({port: sample}, padded.shape[1], stops=stops, bias_start="lag", hardware=hardware,
                       directory=artifact.folder(), loaded=(meta, arrays)) for sample in padded]
    seconds = time.perf_counter() - start
    procs = [p["name"] for p in meta["processes"]]
    stack = lambda key: {p: np.stack([r[p][key] for r in runs]) for p in procs}  # noqa: E731
    states = {"u": stack("u"), "v": stack("v")} if record_state else None
    result = _result("hw" if hardware else "lava", meta, arrays, stack("spikes"), steps, states, {})
    result.seconds = seconds
    return result


def run_hw(artifact: Artifact, x: np.ndarray, *, record_state: bool = False) -> RunResult:
    """The generated module on a Loihi 2 chip (``Loihi2HwCfg``, Intel's Loihi extension)."""
    from snncc.targets.loihi2.target import hardware_available

    if not hardware_available():
        raise SnnccError.single("SNN512", "no Loihi 2 runtime (Intel's Loihi extension of Lava) "
                                "is installed",
                                hint="use --backend lava (CPU fixed-point models) or golden")
    return run_lava(artifact, x, record_state=record_state, hardware=True)
