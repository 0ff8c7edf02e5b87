"""Memory images shared by the emitter, the cycle simulator and the RTL: one
``$readmemh`` file per memory per engine, PE lanes packed in one word (lane 0 in the
least significant bits), each lane a two's complement field of the memory's lane width.

Layouts (NF = N_out / PE, neuron n = g * PE + p):
  w: depth NF * N_cols, word g * N_cols + i holds w[g*PE + p, i] for p in 0..PE-1
     (N_cols = N_in, plus N_out recurrent columns i = N_in + j for own spike j)
  t, b: depth NF, thresholds / biases;  l: depth NF, leak parameter (k or m)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def pack_lanes(values: np.ndarray, lane_bits: int) -> list[int]:
    """values [depth, PE] signed -> one unsigned word per row."""
    mask = (1 << lane_bits) - 1
    words = []
    for row in np.asarray(values, dtype=np.int64):
        word = 0
        for p, val in enumerate(row.tolist()):
            word |= (int(val) & mask) << (p * lane_bits)
        words.append(word)
    return words


def unpack_lanes(words: list[int], lanes: int, lane_bits: int) -> np.ndarray:
    mask, sign = (1 << lane_bits) - 1, 1 << (lane_bits - 1)
    out = np.zeros((len(words), lanes), dtype=np.int64)
    for d, word in enumerate(words):
        for p in range(lanes):
            f = (word >> (p * lane_bits)) & mask
            out[d, p] = f - (1 << lane_bits) if f & sign else f
    return out


def write_hex(path: Path, words: list[int], width: int) -> None:
    digits = (width + 3) // 4
    path.write_text("".join(f"{w:0{digits}x}\n" for w in words))


def read_hex(path: Path) -> list[int]:
    return [int(line, 16) for line in path.read_text().split() if not line.startswith("//")]


def slot_neurons(eng: dict) -> np.ndarray:
    """Neuron index of every (slot, lane) of an engine's state memories, slot-major.
    Dense engines: slot g lane p is neuron g * PE + p. Conv engines: lanes are output
    channels, slot G = fc * NPOS + pos holds neurons (fc * PE + p) * NPOS + pos."""
    pe = eng["pe"]
    if eng.get("engine", "dense") != "conv":
        return np.arange(eng["n_out"])
    cout, ho, wo = eng["out_shape"]
    npos, nfc = ho * wo, cout // pe
    fc, pos, p = np.meshgrid(np.arange(nfc), np.arange(npos), np.arange(pe), indexing="ij")
    return ((fc * pe + p) * npos + pos).reshape(-1)


def engine_memories(layer, eng: dict) -> dict[str, np.ndarray]:
    """Per-memory [depth, PE] arrays of a LayerSpec in the layouts above (conv engine:
    kernel words (fc, ci, dy, dx) and slot-ordered neuron memories)."""
    pe = layer.pe
    if layer.engine == "conv":  # one row of kernel words (ci, dy, dx) per output channel
        rows = np.asarray(layer.weights, dtype=np.int64).reshape(layer.out_shape[0], -1)
    else:
        rows = layer.engine_weights()  # (N_out, N_cols)
    order = slot_neurons(eng)
    return {"w": rows.reshape(-1, pe, rows.shape[1]).transpose(0, 2, 1).reshape(-1, pe),
            "t": layer.thresholds()[order].reshape(-1, pe),
            "b": layer.biases()[order].reshape(-1, pe),
            "l": layer.leak_params()[order].reshape(-1, pe)}


def load_memory(out_dir: Path, mem: dict) -> np.ndarray:
    return unpack_lanes(read_hex(out_dir / mem["file"]), mem["lanes"], mem["lane_bits"])
