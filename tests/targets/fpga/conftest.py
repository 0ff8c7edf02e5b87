import os
import shutil
import sys

import pytest

# tests/ has no packages: make the shared graph builders (fpga_ir_nets.py) importable
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

requires_iverilog = pytest.mark.skipif(shutil.which("iverilog") is None,
                                       reason="iverilog not installed (make sysdeps)")
