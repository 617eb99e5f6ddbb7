"""Implementations of the pipeline's hot kernels, one subpackage per kernel.

``variants/<kernel>/__init__.py`` declares the kernel (contract, generated test
cases, tolerance check) and registers its variants with
:func:`aubench.pipeline.registry.variant`; ``reference.py`` is the plain NumPy
implementation, other modules hold the fast ones. Subpackages are discovered
automatically by :mod:`aubench.pipeline.registry`.
"""
