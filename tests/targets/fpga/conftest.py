import shutil

import pytest

requires_iverilog = pytest.mark.skipif(shutil.which("iverilog") is None,
                                       reason="iverilog not installed (make sysdeps)")
