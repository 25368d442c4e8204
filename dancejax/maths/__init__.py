"""The maths: pure functions of arrays (DCT bases, skeleton graphs, kinematic features, losses,
metrics and the classical filters), used by every layer above."""
