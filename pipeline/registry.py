"""Hot kernels and their swappable implementations ("variants").

A *kernel* is one hot function of the pipeline with one contract (shapes, dtypes,
units, tolerance, the C++ function it reproduces). A *variant* is one
implementation of that contract, named by a string. Every kernel has a
``reference`` variant: plain, readable NumPy, never optimised.

Kernels and variants are declared in ``variants/<kernel>/__init__.py`` with
:func:`kernel` and :func:`variant`; the variant's module is imported only when
the variant is loaded, so a missing optional dependency makes that one variant
*unavailable* (with a reason) instead of breaking start-up.

The pipeline never looks variants up by itself: :func:`resolve` turns a
selection (``{"fhog": "numba", ...}``, from the config) into a :class:`Kernels`
object once, and that object is passed to the stages. An unknown kernel or
variant fails there, with the valid names.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aubench.pipeline.errors import ConfigError, VariantUnavailable, unknown_name

REFERENCE = "reference"
# ``KERNEL:N``: every N-th call of KERNEL is computed twice. Added work with unchanged results,
# for checking that ``aubench gate`` catches a small slowdown (its ``--inject-work``).
INJECT_WORK_ENV = "AUBENCH_INJECT_WORK"


@dataclass(frozen=True)
class Case:
    """One generated input for a kernel: ``fn(*args, **kwargs)``."""

    args: tuple
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class Variant:
    """One implementation of a kernel.

    Parameters
    ----------
    kernel, name : str
        Kernel name and variant name (``"fhog"``, ``"numba"``).
    target : str
        ``"package.module:function"``; imported on first use.
    summary : str
        One line: how this variant differs from the reference.
    requires : tuple of str
        Importable modules it needs; if one is missing the variant is unavailable.
    approximate : bool
        True when it is not expected to reproduce the reference within the
        kernel's tolerance (its end-to-end parity must then be measured and reported).
    """

    kernel: str
    name: str
    target: str
    summary: str
    requires: tuple[str, ...] = ()
    approximate: bool = False

    def unavailable_reason(self) -> str | None:
        """None when the variant can run here, otherwise why not."""
        for module in self.requires:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                return f"needs the optional dependency {module!r} ({exc}); install it with pip install {module}"
        return None

    def load(self) -> Callable:
        reason = self.unavailable_reason()
        if reason is not None:
            raise VariantUnavailable(f"variant {self.kernel}={self.name} is unavailable: {reason}")
        module_name, _, attr = self.target.partition(":")
        module = importlib.import_module(module_name)
        return getattr(module, attr)

    def source_hash(self) -> str:
        """Hash of the variant's module source: results are comparable only for equal hashes."""
        module_name = self.target.partition(":")[0]
        spec = importlib.util.find_spec(module_name)
        if spec is None or spec.origin is None:
            return "unknown"
        return hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()[:12]


@dataclass
class Kernel:
    """A hot function's contract and its variants.

    ``cases(rng, models_dir)`` generates inputs for the registry-driven test and
    the microbenchmarks; ``check(expected, actual, case)`` raises
    ``AssertionError`` when ``actual`` is outside the kernel's tolerance.
    """

    name: str
    summary: str
    cases: Callable[..., Iterable[Case]]
    check: Callable[[Any, Any, Case], None]
    variants: dict[str, Variant] = field(default_factory=dict)


_KERNELS: dict[str, Kernel] = {}
_DISCOVERED = False


def kernel(name: str, *, summary: str, cases: Callable[..., Iterable[Case]], check: Callable) -> Kernel:
    """Declare a kernel (called from ``variants/<name>/__init__.py``)."""
    if not name.isidentifier():
        raise ValueError(f"kernel name must be an identifier, got {name!r}")
    if name in _KERNELS:
        raise ValueError(f"kernel {name!r} declared twice")
    _KERNELS[name] = Kernel(name=name, summary=summary, cases=cases, check=check)
    return _KERNELS[name]


def variant(kernel_name: str, name: str, target: str, summary: str, *,
            requires: Iterable[str] = (), approximate: bool = False) -> Variant:
    """Register a variant of an already declared kernel."""
    k = _KERNELS[kernel_name]
    if name in k.variants:
        raise ValueError(f"variant {kernel_name}={name} registered twice")
    v = Variant(kernel_name, name, target, summary, tuple(requires), approximate)
    k.variants[name] = v
    return v


def _discover() -> None:
    """Import every ``variants.<kernel>`` package once (cheap: variant modules load lazily)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    import aubench.variants

    for info in pkgutil.iter_modules(aubench.variants.__path__):
        if info.ispkg and not info.name.startswith("_"):
            importlib.import_module(f"aubench.variants.{info.name}")
    _DISCOVERED = True


def kernels() -> Mapping[str, Kernel]:
    """All declared kernels, by name."""
    _discover()
    return dict(_KERNELS)


class Kernels:
    """The resolved implementation of every kernel, passed explicitly to the stages.

    ``kernels.fhog(img)`` calls the selected variant of ``fhog``;
    ``kernels.selection`` is the ``{kernel: variant}`` mapping, recorded in results.
    """

    def __init__(self, functions: Mapping[str, Callable], selection: Mapping[str, str]):
        self._functions = dict(functions)
        self.selection = dict(selection)

    def __getattr__(self, name: str) -> Callable:
        try:
            return self.__dict__["_functions"][name]
        except KeyError:
            raise AttributeError(unknown_name("kernel", name, self.__dict__["_functions"])) from None

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in sorted(self.selection.items()))
        return f"Kernels({inner})"


def validate_selection(selection: Mapping[str, str], where: str = "") -> None:
    """Raise ConfigError for an unknown kernel or variant name (with the valid choices)."""
    known = kernels()
    for kname, vname in selection.items():
        if kname not in known:
            raise ConfigError(unknown_name("kernel", kname, known, where))
        if vname not in known[kname].variants:
            raise ConfigError(unknown_name(f"variant of kernel {kname}", vname, known[kname].variants, where))


def resolve(selection: Mapping[str, str] | None = None, where: str = "") -> Kernels:
    """Resolve a ``{kernel: variant}`` selection; kernels not named use ``reference``.

    This is the one place a variant name becomes a function.
    """
    selection = dict(selection or {})
    validate_selection(selection, where)
    chosen = {name: selection.get(name, REFERENCE) for name in kernels()}
    functions = {}
    for kname, vname in chosen.items():
        try:
            functions[kname] = _KERNELS[kname].variants[vname].load()
        except VariantUnavailable as exc:
            raise ConfigError(f"{where + ': ' if where else ''}{exc}") from None
    spec = os.environ.get(INJECT_WORK_ENV)
    if spec:
        _inject_work(functions, spec)
    return Kernels(functions, chosen)


def _inject_work(functions: dict[str, Callable], spec: str) -> None:
    """Wrap one kernel so that every N-th call runs twice (``INJECT_WORK_ENV``: ``KERNEL:N``)."""
    name, _, every = spec.partition(":")
    if name not in functions or not every.isdigit() or int(every) < 1:
        raise ConfigError(f"{INJECT_WORK_ENV}={spec!r}: expected KERNEL:N with N >= 1; kernels: "
                          + ", ".join(sorted(functions)))
    fn, n, calls = functions[name], int(every), [0]

    def twice_every_n(*args, **kwargs):
        calls[0] += 1
        if calls[0] % n == 0:
            fn(*args, **kwargs)
        return fn(*args, **kwargs)

    functions[name] = twice_every_n


def describe() -> list[dict[str, Any]]:
    """A row per variant (for ``aubench variants`` and reports)."""
    rows = []
    for k in kernels().values():
        for v in k.variants.values():
            reason = v.unavailable_reason()
            rows.append({
                "kernel": k.name, "variant": v.name, "summary": v.summary,
                "approximate": v.approximate, "available": reason is None, "reason": reason or "",
            })
    return rows


def contract_doc(kernel_name: str) -> str:
    """The reference variant's docstring: the kernel's contract."""
    ref = kernels()[kernel_name].variants[REFERENCE].load()
    return inspect.getdoc(ref) or ""


def array_check(dtype, *, atol: float = 0.0, rtol: float = 0.0, unit: str = "") -> Callable[[Any, Any, Case], None]:
    """A kernel ``check`` for array outputs: same shape and ``dtype``, and
    ``max|actual - expected| <= atol + rtol * max|expected|`` (both 0: bit-identical)."""
    import numpy as np

    dtype = np.dtype(dtype)

    def check(expected, actual, case: Case) -> None:
        actual = np.asarray(actual)
        assert actual.shape == expected.shape and actual.dtype == dtype, \
            f"{case.label}: got {actual.shape} {actual.dtype}, expected {expected.shape} {dtype}"
        if atol == 0.0 and rtol == 0.0:
            bad = int(np.count_nonzero(actual != expected))
            assert bad == 0, f"{case.label}: {bad} values differ; this kernel must be bit-identical"
            return
        tol = atol + rtol * float(np.abs(expected).max(initial=0.0))
        err = float(np.abs(actual.astype(np.float64) - expected).max(initial=0.0))
        assert err <= tol, f"{case.label}: max abs error {err:.3g}{unit} > {tol:.3g}"

    return check
