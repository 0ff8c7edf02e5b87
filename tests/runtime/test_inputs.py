"""snncc.runtime.inputs: dense arrays and event files as [B, T, *input_shape]."""
import numpy as np
import pytest

from snncc.diagnostics import SnnccError
from snncc.runtime.inputs import EventOptions, as_batch, bin_events, load_input


def test_dense_arrays_with_and_without_batch_and_flattened_steps():
    x = np.arange(5 * 2 * 3 * 3, dtype=np.float32).reshape(5, 2, 3, 3)
    single, batched = as_batch(x, (2, 3, 3))
    assert not batched and single.shape == (1, 5, 2, 3, 3) and (single[0] == x).all()
    many, batched = as_batch(np.stack([x, x + 1]), (2, 3, 3))
    assert batched and many.shape == (2, 5, 2, 3, 3) and (many[1] == x + 1).all()
    flat, batched = as_batch(x.reshape(1, 5, 18), (2, 3, 3))
    assert batched and (flat[0] == x).all()


@pytest.mark.parametrize("bad", [np.zeros((4, 7)), np.zeros((2, 3, 4, 7)), np.zeros(3)])
def test_wrong_shapes_are_one_diagnostic_with_the_expected_layouts(bad):
    with pytest.raises(SnnccError) as info:
        as_batch(bad, (4, 5))
    (d,) = info.value.diagnostics
    assert d.code == "SNN603" and "(4, 5)" in d.message and "[T, 4, 5]" in d.hint and "[B, T, 4, 5]" in d.hint


def test_non_finite_and_non_numeric_inputs_are_rejected():
    for bad in (np.array([[np.nan, 0.0]]), np.array([["a", "b"]])):
        with pytest.raises(SnnccError) as info:
            as_batch(bad, (2,))
        assert info.value.diagnostics[0].code == "SNN603"


def _events():
    # (sample, x, y, polarity, t in us) with dt = 1 ms: bins are [k ms, (k+1) ms)
    rows = [(0, 1, 2, 1, 0), (0, 1, 2, 1, 999), (0, 3, 0, 0, 1000), (0, 3, 0, -1, 2500),
            (1, 0, 1, 1, 1999), (1, 2, 2, 0, 3000)]
    return {k: np.array(v) for k, v in zip(("sample", "x", "y", "polarity", "t"), zip(*rows))}


def _dense_by_hand(count: bool):
    x = np.zeros((2, 4, 2, 3, 4), np.float32)  # [B, T, polarity, H=3, W=4]
    x[0, 0, 1, 2, 1] = 2 if count else 1       # two ON events at x=1, y=2 in the first millisecond
    x[0, 1, 0, 0, 3] = 1                       # OFF event at t = 1000 us: step 1
    x[0, 2, 0, 0, 3] = 1                       # polarity -1 is OFF
    x[1, 1, 1, 1, 0] = 1
    x[1, 3, 0, 2, 2] = 1
    return x


@pytest.mark.parametrize("mode", ["binary", "count"])
def test_events_are_binned_at_dt_into_polarity_channels(mode):
    loaded = bin_events(_events(), (2, 3, 4), 1e-3, EventOptions(mode=mode))
    assert loaded.batched and loaded.notes == []
    np.testing.assert_array_equal(loaded.x, _dense_by_hand(mode == "count"))


def test_event_layouts_time_units_and_dropped_events():
    events = _events()
    merged = bin_events(events, (3, 4), 1e-3).x                     # (H, W): polarity merged
    np.testing.assert_array_equal(merged, _dense_by_hand(False).max(axis=2))
    flat = bin_events(events, (24,), 1e-3, EventOptions(sensor=(4, 3))).x
    np.testing.assert_array_equal(flat, _dense_by_hand(False).reshape(2, 4, 24))
    seconds = {**events, "t": events["t"] * 1e-6}
    np.testing.assert_array_equal(bin_events(seconds, (2, 3, 4), 1e-3, EventOptions(time_unit="s")).x, _dense_by_hand(False))
    short = bin_events(events, (2, 3, 4), 1e-3, EventOptions(steps=2))
    assert short.x.shape[1] == 2 and short.notes == ["2 event(s) after the last of 2 steps were dropped"]


def test_bad_events_are_reported_together():
    events = {**_events(), "x": np.array([1, 9, 3, 3, 0, 2])}
    events["t"] = events["t"] - 1000
    with pytest.raises(SnnccError) as info:
        bin_events(events, (2, 3, 4), 1e-3)
    (d,) = info.value.diagnostics
    assert d.code == "SNN603" and "x not an integer in [0, 4)" in d.message and "negative" in d.message
    with pytest.raises(SnnccError) as info:
        bin_events(_events(), (7,), 1e-3)
    assert "--sensor" in info.value.diagnostics[0].hint


def test_event_files_npz_structured_npy_and_csv(tmp_path):
    events = _events()
    np.savez(tmp_path / "ev.npz", **events)
    table = np.zeros(6, dtype=[("x", "i4"), ("y", "i4"), ("p", "i1"), ("t", "i8"), ("sample", "i4")])
    for name in ("x", "y", "t", "sample"):
        table[name] = events[name]
    table["p"] = events["polarity"]
    np.save(tmp_path / "ev.npy", table)
    lines = ["sample,x,y,polarity,t"] + [",".join(str(events[k][i]) for k in ("sample", "x", "y", "polarity", "t"))
                                         for i in range(6)]
    (tmp_path / "ev.csv").write_text("\n".join(lines) + "\n")
    for name in ("ev.npz", "ev.npy", "ev.csv"):
        np.testing.assert_array_equal(load_input(str(tmp_path / name), (2, 3, 4), 1e-3).x, _dense_by_hand(False), err_msg=name)
    # a headerless CSV is x, y, polarity, t of one sample
    (tmp_path / "one.csv").write_text("1,2,1,0\n3,0,0,1000\n")
    one = load_input(str(tmp_path / "one.csv"), (2, 3, 4), 1e-3)
    assert not one.batched and one.x.shape == (1, 2, 2, 3, 4) and one.x.sum() == 2 and one.x[0, 1, 0, 0, 3] == 1


def test_dense_files_and_file_errors(tmp_path):
    x = np.random.default_rng(0).random((3, 5, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "named.npz", input=x, labels=np.arange(3))
    np.savez(tmp_path / "two.npz", a=x, b=x)
    for name in ("x.npy", "named.npz"):
        np.testing.assert_array_equal(load_input(str(tmp_path / name), (4,), None).x, x)
    (tmp_path / "x.bin").write_bytes(b"123")
    codes = {}
    for name in ("two.npz", "x.bin", "missing.npy"):
        with pytest.raises(SnnccError) as info:
            load_input(str(tmp_path / name), (4,), None)
        codes[name] = info.value.diagnostics[0].code
    assert codes == {"two.npz": "SNN603", "x.bin": "SNN603", "missing.npy": "SNN101"}
