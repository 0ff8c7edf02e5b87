"""Compiling for spinnaker2 in tests: each model once per session, with the target's pipeline;
and FAKE, a recording fake of the py-spinnaker2 API that generated runners run against."""
import json
import os
import subprocess
import sys

import pytest

from snncc.compiler import compile as compile_model

FAKE = {
    "__init__.py": '''
import json, os
CALLS = []
def log(kind, **kw):
    CALLS.append(dict(kind=kind, **kw))
    with open(os.environ["FAKE_S2_LOG"], "w") as f:
        json.dump(CALLS, f)
''',
    "snn.py": '''
import numpy as np
from spinnaker2 import log
def _plain(x):
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    return np.asarray(x).tolist()
class Population:
    def __init__(self, size, neuron_model, params, name, record):
        self.size, self.name, self.record = size, name, record
        log("Population", size=size, neuron_model=neuron_model, params=_plain(params),
            name=name, record=list(record))
    def set_max_atoms_per_core(self, n):
        log("set_max_atoms_per_core", name=self.name, n=n)
    def get_spikes(self):
        return {0: [1, 3]}
    def get_voltages(self):
        return {i: np.arange(self.steps) * (i + 1.0) for i in range(self.size)}
    def get_time_done_times(self):
        return {0: np.full(self.steps, 7), 1: np.full(self.steps, 9)}
    def get_n_packets(self):
        return np.arange(self.steps)
class Projection:
    def __init__(self, pre, post, connections):
        log("Projection", pre=pre.name, post=post.name, connections=connections)
class Conv2DProjection:
    def __init__(self, pre, post, weights, conv_params):
        log("Conv2DProjection", pre=pre.name, post=post.name, dtype=str(weights.dtype),
            weights=weights.tolist(), conv_params=conv_params)
class Network:
    def __init__(self, name):
        self.name, self.objects = name, []
        log("Network", name=name)
    def add(self, *objs):
        self.objects.extend(objs)
''',
    "hardware.py": '''
from spinnaker2 import log
class SpiNNaker2Chip:
    def __init__(self, eth_ip):
        log("SpiNNaker2Chip", eth_ip=eth_ip)
    def run(self, net, timesteps, sys_tick_in_s=None):
        log("run", net=net.name, timesteps=timesteps, sys_tick_in_s=sys_tick_in_s,
            n_objects=len(net.objects))
        for o in net.objects:
            o.steps = timesteps
''',
    "brian2_sim.py": '''
from spinnaker2 import log
from spinnaker2.hardware import SpiNNaker2Chip
class Brian2Backend(SpiNNaker2Chip):
    def __init__(self):
        log("Brian2Backend")
''',
    "helpers.py": "",
    "neuron_models/__init__.py": "",
    "neuron_models/common.py": '''
import enum
class PmgtMode(enum.Enum):
    PL_MODE_LOW = 0
    PL_MODE_HIGH = 1
class DVFSParams:
    def __init__(self, mode, pl_threshold):
        self.mode, self.pl_threshold = mode, pl_threshold
''',
    "neuron_models/lif_neuron.py": '''
from spinnaker2 import log
class _Meta(type):
    def __setattr__(cls, name, value):
        log("dvfs", app=cls.__name__, mode=value.mode.name, pl_threshold=value.pl_threshold)
class LIFNoDelayApplication(metaclass=_Meta):
    pass
''',
    "neuron_models/lif_conv2d.py": '''
from spinnaker2.neuron_models.lif_neuron import _Meta
class LIFConv2dApplication(metaclass=_Meta):
    pass
''',
}


@pytest.fixture
def run_on_fake_api(tmp_path):
    """``run(runner, *args)``: run a generated ``run_py_spinnaker2.py`` on FAKE; returns the
    API calls it made, in order (the runner must exit 0)."""
    root, log = tmp_path / "fake", tmp_path / "log.json"
    for rel, text in FAKE.items():
        path = root / "spinnaker2" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def run(runner, *args) -> list[dict]:
        env = dict(os.environ, PYTHONPATH=str(root), FAKE_S2_LOG=str(log))
        proc = subprocess.run([sys.executable, str(runner), *args], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return json.loads(log.read_text())

    return run


@pytest.fixture(scope="session")
def s2_compiled(tmp_path_factory):
    """``s2_compiled(model, load_options=None)`` -> (OUT path, CompileResult), compiled once
    per session with the spinnaker2 target's pipeline (tests must not write into OUT)."""
    cache = {}

    def get(model, load_options=None):
        key = (str(model), repr(load_options))
        if key not in cache:
            out = tmp_path_factory.mktemp("s2") / "out"
            result = compile_model(str(model), "spinnaker2", load_options=load_options, out_dir=str(out))
            cache[key] = (out, result)
        return cache[key]

    return get
