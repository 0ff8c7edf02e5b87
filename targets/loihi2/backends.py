"""Backends of the ``loihi2`` target (see snncc.runtime.backend): ``golden`` (snncc's
bit-exact integer model), ``lava`` (the generated OUT/loihi2/network.py on Lava's CPU
fixed-point models) and ``hw`` (the same module with ``Loihi2HwCfg``).

``golden`` computes from the compiler's intent: it lowers ``OUT/ir`` again with the same
code that emitted the files (once per :class:`Artifact`), and never reads OUT/loihi2; ``lava`` and
``hw`` read the emitted files through the generated module's own ``load()``. So an edited or
corrupted OUT/loihi2 makes ``lava`` disagree with ``golden``. Population ``p`` runs ``lag[p]`` steps
behind the reference simulator (one step per synapse), so the input is padded with
``max_lag`` silent steps and ``spikes`` are shifted back by ``lag[p]``; ``raw`` keeps the
unshifted ``[B, T + max_lag, N]``. Final states (``record_state``) are Lava's ``u`` and
``v`` of each IR node at its reference step ``T - 1`` (Lava step ``T + lag``), in Lava
units: real ``v = v * state_scale[node]``; ``extra["state_scales"]`` gives ``u``'s too.
A process with threshold offsets stores ``v - v_init`` (the model's membrane shifted,
except right after a spike, when both are 0): ``v`` in the states (and traces) is the
model's membrane, i.e. Lava's ``v`` minus ``v_init`` where the neuron did not fire.
"""
from __future__ import annotations

import importlib.util
import os
import time
from typing import Any

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.loading import import_file
from snncc.runtime.backend import Artifact, RunResult
from snncc.targets.loihi2.netspec import Connection, InputPort, LifPopulation, NetSpec

__all__ = ["run_golden", "run_lava", "run_hw", "generated_module", "golden_spec", "netspec_of",
           "padded_input", "intent", "membrane"]

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
        _MODULES[key] = import_file(path, f"snncc_loihi2_network_{len(_MODULES)}")
    return _MODULES[key]


def netspec_of(module: Any, meta: dict, arrays: dict[str, np.ndarray]) -> NetSpec:
    """The :class:`NetSpec` of the emitted files (what Lava runs)."""
    inputs = tuple(InputPort(p["name"], p["size"]) for p in meta["inputs"])
    pops = tuple(LifPopulation(p["name"], p["size"], p["du"], p["dv"], p["vth"],
                               arrays[f"{p['name']}.bias_mant"].astype(np.int64),
                               arrays[f"{p['name']}.bias_exp"].astype(np.int64),
                               module.initial_v(arrays, p))
                 for p in meta["processes"])
    conns = tuple(Connection(c["name"], c["src"], c["dst"], module.matrix(c, arrays),
                             c["num_weight_bits"], c["weight_exp"], c["sign_mode"],
                             module.matrix(c, arrays, "delays") if c["delays"] else None,
                             c["sparse"])
                  for c in meta["connections"])
    return NetSpec(inputs, pops, conns)


def intent(artifact: Artifact) -> tuple[dict, dict[str, np.ndarray], NetSpec]:
    """(meta, arrays, NetSpec) of ``OUT/ir`` lowered again, as emit wrote them (network.json
    content, params.npz arrays), never read from OUT/loihi2; once per :class:`Artifact`."""
    def make() -> tuple[dict, dict[str, np.ndarray], NetSpec]:
        from snncc.targets.loihi2.emit import network_files
        from snncc.targets.loihi2.lower import lower

        lowered = lower(artifact.graph)
        meta, arrays = network_files(lowered, artifact.graph.dt)
        return meta, arrays, lowered.spec

    return artifact.cached("loihi2.intent", make)


def golden_spec(folder: str) -> tuple[Any, dict, dict[str, np.ndarray], NetSpec]:
    """(module, meta, arrays, NetSpec) of the emitted files (what Lava runs, e.g. for benchmarks),
    the spec cached per file version."""
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
        at = {p: steps - 1 + lag for p, lag in _process_lags(meta).items()}
        u = _assemble(meta, arrays, states["u"])
        v = _assemble(meta, arrays, {p: membrane(arrays, p, states["v"][p], spikes[p][:, at[p]])
                                     for p in states["v"]})
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


def membrane(arrays: dict[str, np.ndarray], process: str, v: np.ndarray, fired: np.ndarray) -> np.ndarray:
    """The model's membrane (Lava units) from Lava's ``v`` of ``process``: ``v - v_init``
    except where the neuron fired at that step (reset: both 0)."""
    key = f"{process}.v_init"
    if key not in arrays:
        return v
    return np.where(np.asarray(fired) != 0, v, v - arrays[key].astype(v.dtype))


def run_golden(artifact: Artifact, x: np.ndarray, *, record_state: bool = False,
               trace: bool = False) -> RunResult:
    """snncc's bit-exact model of Lava's fixed-point processes, on ``OUT/ir`` lowered again.
    ``trace``: also return the unshifted ``u``/``v`` (``v`` the model's membrane, see
    :func:`membrane`) after every step in ``extra["trace"]`` (per IR node, ``[B, T + max_lag, N]``)."""
    from snncc.targets.loihi2.golden import simulate

    meta, arrays, spec = intent(artifact)
    port, padded, steps = padded_input(meta, x)
    start = time.perf_counter()
    lags = _process_lags(meta)
    gold = simulate(spec, {port: padded}, record_uv=record_state or trace, check=False, bias_start=lags)
    seconds = time.perf_counter() - start
    states, extra = None, {}
    if record_state:
        at = {p: steps - 1 + lag for p, lag in lags.items()}
        states = {"u": {p: gold.u_trace[p][:, at[p]] for p in at},
                  "v": {p: gold.v_trace[p][:, at[p]] for p in at}}
    if trace:
        v_trace = {p: membrane(arrays, p, v, gold.spikes[p]) for p, v in gold.v_trace.items()}
        extra["trace"] = {name: {"u": u, "v": v} for (name, u), v in
                          zip(_assemble(meta, arrays, gold.u_trace).items(),
                              _assemble(meta, arrays, v_trace).values())}
    result = _result("golden", meta, arrays, gold.spikes, steps, states, extra)
    result.seconds = seconds
    return result


def _process_lags(meta: dict) -> dict[str, int]:
    """Each Lava process's lag: its IR node's steps behind the reference."""
    return {p: n["lag"] for n in meta["nodes"] for p in n["processes"]}


def run_lava(artifact: Artifact, x: np.ndarray, *, record_state: bool = False,
             hardware: bool = False) -> RunResult:
    """The generated module on Lava (``Loihi2SimCfg(select_tag="fixed_pt")``), one sample per run."""
    if importlib.util.find_spec("lava") is None:
        raise SnnccError.single("SNN512", "the lava backend needs lava-nc",
                                hint="pip install lava-nc==0.10.0")
    module = generated_module(artifact.folder())
    meta, arrays = module.load(artifact.folder())
    port, padded, steps = padded_input(meta, x)
    stops = {p: steps + lag for p, lag in _process_lags(meta).items()}
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
