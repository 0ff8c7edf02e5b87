"""Write ``OUT/spinnaker2/``: netlist.json, weights.npz and run_py_spinnaker2.py.

``netlist.json`` is deterministic (sorted keys, arrays by reference into the npz,
float32 values written as their exact double) and checked against
``netlist.schema.json`` before anything is written; ``weights.npz`` is written with
fixed zip timestamps so equal networks give byte-identical files.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snncc.diagnostics import SnnccError

from .limits import SpiNNaker2Limits
from .netspec import Conv2DParams, NetSpec, NeuronParams, Population, Projection, RunOptions
from .runner_template import RUNNER
from .validate import check

SCHEMA_PATH = Path(__file__).with_name("netlist.schema.json")
NETLIST, ARRAYS, RUNNER_FILE = "netlist.json", "weights.npz", "run_py_spinnaker2.py"


@dataclass(frozen=True)
class EmittedFiles:
    directory: Path
    netlist: Path
    arrays: Path
    runner: Path


def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def validate_netlist_json(doc: dict) -> None:
    """Raise :class:`SnnccError` (SNN447) listing every schema violation of ``doc``."""
    import jsonschema  # a dependency of the spinnaker2 target

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise SnnccError.single(
            "SNN447", "; ".join(f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
                                for e in errors),
            node="netlist.json", hint=f"see {SCHEMA_PATH.name}")


def _array_or_scalar(value: np.ndarray, key: str, arrays: dict[str, np.ndarray]):
    if value.ndim == 0:
        return value.item()
    arrays[key] = value
    return {"ref": key}


def _population(i: int, pop: Population, arrays: dict[str, np.ndarray]) -> dict:
    params = None
    if pop.params is not None:
        params = {f: _array_or_scalar(getattr(pop.params, f), f"pop{i}.{f}", arrays)
                  for f in NeuronParams.FLOAT_FIELDS}
        params.update(reset=pop.params.reset, t_refrac=int(pop.params.t_refrac))
    return {"name": pop.name, "size": int(pop.size), "neuron_model": pop.neuron_model,
            "params": params, "record": list(pop.record),
            "max_atoms_per_core": int(pop.max_atoms_per_core), "v_scale": float(pop.v_scale),
            "shape": list(pop.shape) if pop.shape is not None else None}


def _projection(i: int, proj: Projection, arrays: dict[str, np.ndarray]) -> dict:
    arrays[f"proj{i}.weights"] = proj.weights
    ref = lambda a, k: None if a is None else _array_or_scalar(a, f"proj{i}.{k}", arrays)  # noqa
    return {"name": proj.name, "pre": proj.pre, "post": proj.post, "kind": proj.kind,
            "weight_scale": float(proj.weight_scale), "weights": {"ref": f"proj{i}.weights"},
            "delays": ref(proj.delays, "delays"), "pre_idx": ref(proj.pre_idx, "pre_idx"),
            "post_idx": ref(proj.post_idx, "post_idx"),
            "conv": None if proj.conv is None else {k: int(v) for k, v in
                                                    proj.conv.__dict__.items()}}


def to_json(spec: NetSpec) -> tuple[dict, dict[str, np.ndarray]]:
    """(netlist document, arrays for the npz)."""
    arrays: dict[str, np.ndarray] = {}
    doc = {
        "format": "snncc.spinnaker2.netlist", "version": 1, "name": spec.name, "arrays": ARRAYS,
        "populations": [_population(i, p, arrays) for i, p in enumerate(spec.populations)],
        "projections": [_projection(i, j, arrays) for i, j in enumerate(spec.projections)],
        "run": {"timesteps": int(spec.run.timesteps), "sys_tick_in_s": float(spec.run.sys_tick_in_s),
                "dvfs": spec.run.dvfs, "pl_threshold": spec.run.pl_threshold},
    }
    return doc, arrays


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def dumps(doc: dict) -> str:
    return json.dumps(doc, sort_keys=True, indent=1) + "\n"


def emit(spec: NetSpec, out: str | Path, limits: SpiNNaker2Limits | None = None) -> EmittedFiles:
    """Validate ``spec`` (raising every violation at once) and write ``out/spinnaker2/``."""
    check(spec, limits)
    doc, arrays = to_json(spec)
    validate_netlist_json(doc)
    directory = Path(out) / "spinnaker2"
    directory.mkdir(parents=True, exist_ok=True)
    text = dumps(doc)
    files = EmittedFiles(directory, directory / NETLIST, directory / ARRAYS, directory / RUNNER_FILE)
    files.netlist.write_text(text)
    _write_npz(files.arrays, arrays)
    digest = hashlib.sha256(text.encode()).hexdigest()
    files.runner.write_text(RUNNER.format(name=spec.name, digest=digest))
    return files


def _param(value, arrays) -> np.ndarray:
    return arrays[value["ref"]] if isinstance(value, dict) else np.asarray(value)


def load(directory: str | Path) -> NetSpec:
    """Read an emitted ``spinnaker2/`` folder (or its parent) back into a :class:`NetSpec`."""
    directory = Path(directory)
    if not (directory / NETLIST).exists():
        directory = directory / "spinnaker2"
    doc = json.loads((directory / NETLIST).read_text())
    validate_netlist_json(doc)
    with np.load(directory / doc["arrays"]) as npz:
        arrays = {k: npz[k] for k in npz.files}
    pops = []
    for p in doc["populations"]:
        params = None
        if p["params"] is not None:
            q = p["params"]
            params = NeuronParams(**{f: _param(q[f], arrays) for f in NeuronParams.FLOAT_FIELDS},
                                  reset=q["reset"], t_refrac=q["t_refrac"])
        pops.append(Population(p["name"], p["size"], p["neuron_model"], params,
                               tuple(p["record"]), p["max_atoms_per_core"], p["v_scale"],
                               tuple(p["shape"]) if p["shape"] is not None else None))
    projs = [Projection(
        j["name"], j["pre"], j["post"], j["kind"], arrays[j["weights"]["ref"]], j["weight_scale"],
        _param(j["delays"], arrays),
        None if j["pre_idx"] is None else arrays[j["pre_idx"]["ref"]],
        None if j["post_idx"] is None else arrays[j["post_idx"]["ref"]],
        None if j["conv"] is None else Conv2DParams(**j["conv"])) for j in doc["projections"]]
    return NetSpec(doc["name"], tuple(pops), tuple(projs), RunOptions(**doc["run"]))
