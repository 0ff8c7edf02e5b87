import os
import sys

# tests/ has no packages: make the shared graph builders (fpga_ir_nets.py) importable
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
