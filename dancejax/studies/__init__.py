"""Studies: hyper-parameter grids trained as vmapped programs (``study``) and the paper's
comparison tables over seeds (``compare``)."""
