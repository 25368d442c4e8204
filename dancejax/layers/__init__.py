"""Layers: pure functions (functional.py) and the Flax modules over them (modules.py)."""
