"""Library behind the teaching book on soft-tissue calcifications.

One concern per module: ``labs`` (serum chemistry and the calcium-phosphate
product), ``plots`` (schematic figures), ``widgets`` (calculators that also
work on the static site). Knowledge lives in data files under ``data/``.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
