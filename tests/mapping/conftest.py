"""Makes the tiny systems and brute-force optimum (placement_kit.py) importable: tests/ has no packages."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
