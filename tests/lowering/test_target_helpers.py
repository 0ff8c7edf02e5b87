"""The helpers snncc.lowering shares between the hardware targets' lowerings."""
import numpy as np

from snncc.lowering import is_integral


def test_is_integral_relative_above_one_absolute_below_and_never_for_nan_or_inf():
    # 1e-6 of |x| above 1, 1e-6 below
    values = [3 + 2.5e-6, 3 + 3.5e-6, -0.9e-6, 1.1e-6, 1e5 + 0.09, 1e5 + 0.11, np.nan, np.inf]
    assert is_integral(values).tolist() == [True, False, True, False, True, False, False, False]
    # loose: 1e-3 absolute plus 1e-5 relative
    loose = is_integral([0.0009, 0.0011, 100.0019, 100.0021, 1e3 + 0.0105, 1e3 + 0.0115], rtol=1e-5, atol=1e-3)
    assert loose.tolist() == [True, False, True, False, True, False]
