"""trifix: a FIX 4.4 engine and multi-LP trading gateway on trio."""

__version__ = "0.1.0"

__all__ = ["__version__"]
