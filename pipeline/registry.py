"""Hot kernels and their swappable implementations ("variants").

A *kernel* is one hot function of the pipeline with one contract (shapes, dtypes,
units, tolerance, the C++ function it reproduces). A *variant* is one
implementation of that contract, named by a string. Every kernel has a
``reference`` variant: plain, readable NumPy, never optimised.

Kernels and variants are declared in ``variants/<kernel>/__init__.py`` with
:func:`kernel` and :func:`variant`; the variant's module is imported only when
the variant is loaded, so a missing optional dependency makes that one variant
*unavailable* (with a reason) instead of breaking start-up.

Each kernel's contract is a :class:`typing.Protocol` in :mod:`aubench.pipeline.contracts`
(its signature and, as its docstring, shapes, dtypes, units, tolerance and the C++
function); every variant has exactly that signature (``tests/variants/test_contracts.py``).

The pipeline never looks variants up by itself: :func:`resolve` turns a
selection (``{"fhog": "numba", ...}``, from the config) into a :class:`Kernels`
object once, and that object is passed to the stages. An unknown kernel or
variant fails there, with the valid names. Stages never import a variant;
code that needs the reference implementations asks :func:`reference_kernels`.
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
from typing import TYPE_CHECKING, Any, Protocol

from aubench.pipeline import contracts
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

    ``contract`` is the kernel's Protocol (:mod:`aubench.pipeline.contracts`): the signature
    every variant has and, as its docstring, the contract. ``cases(rng, models_dir)``
    generates inputs for the registry-driven test and the microbenchmarks;
    ``check(expected, actual, case)`` raises ``AssertionError`` when ``actual`` is outside
    the kernel's tolerance.
    """

    name: str
    summary: str
    contract: type
    cases: Callable[..., Iterable[Case]]
    check: Callable[[Any, Any, Case], None]
    variants: dict[str, Variant] = field(default_factory=dict)


_KERNELS: dict[str, Kernel] = {}
_DISCOVERED = False


def kernel(name: str, *, contract: type, summary: str, cases: Callable[..., Iterable[Case]],
           check: Callable) -> Kernel:
    """Declare a kernel (called from ``variants/<name>/__init__.py``).

    ``contract`` is its Protocol in :mod:`aubench.pipeline.contracts`, with a ``__call__``.
    """
    if not name.isidentifier():
        raise ValueError(f"kernel name must be an identifier, got {name!r}")
    if name in _KERNELS:
        raise ValueError(f"kernel {name!r} declared twice")
    if Protocol not in getattr(contract, "__mro__", ()) or "__call__" not in vars(contract):
        raise TypeError(f"kernel {name!r}: expected a typing.Protocol with a __call__ as its contract, "
                        f"got {contract!r}; declare one in aubench/pipeline/contracts.py")
    _KERNELS[name] = Kernel(name=name, summary=summary, contract=contract, cases=cases, check=check)
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


@dataclass(frozen=True, init=False, repr=False, eq=False)
class Kernels:
    """The resolved implementation of every kernel, passed explicitly to the stages.

    One attribute per kernel, typed with its contract: ``kernels.fhog(img)`` calls the
    selected variant of ``fhog`` (:class:`aubench.pipeline.contracts.Fhog`).
    ``kernels.selection`` is the ``{kernel: variant}`` mapping, recorded in results.
    Build it with :func:`resolve` (or :func:`reference_kernels`); ``Kernels(functions,
    selection)`` takes already resolved callables, and may hold only some kernels (a harness
    that replays stored outputs): using a kernel it does not hold is an AttributeError.
    Frozen: :meth:`replace` returns a copy with some callables swapped.
    """

    # landmarks (CLNF)
    align_shapes: contracts.AlignShapes
    calc_params: contracts.CalcParams
    warp_areas: contracts.WarpAreas
    patch_response: contracts.PatchResponse
    mean_shift: contracts.MeanShift
    nu_rlms: contracts.NuRlms
    validator_conv: contracts.ValidatorConv
    # face detection (MTCNN)
    mtcnn_conv: contracts.MtcnnConv
    mtcnn_prelu: contracts.MtcnnPrelu
    mtcnn_max_pool: contracts.MtcnnMaxPool
    mtcnn_fc: contracts.MtcnnFc
    mtcnn_nms: contracts.MtcnnNms
    # action units
    face_mask: contracts.FaceMask
    fhog: contracts.Fhog
    running_median: contracts.RunningMedian
    au_predict: contracts.AuPredict
    selection: dict[str, str]

    def __init__(self, functions: Mapping[str, Callable], selection: Mapping[str, str]):
        known = kernels()
        for name, fn in functions.items():
            if name not in known:
                raise ValueError(unknown_name("kernel", name, known, "Kernels(...)"))
            if not callable(fn):
                raise TypeError(f"Kernels(...): kernel {name!r} must be callable, got {type(fn).__name__}")
            object.__setattr__(self, name, fn)
        object.__setattr__(self, "selection", dict(selection))

    if not TYPE_CHECKING:  # hidden from type checkers, so that they still flag a misspelt kernel
        def __getattr__(self, name: str) -> Any:
            # only called for attributes that are not set: an unknown kernel or one this object lacks
            if name.startswith("__"):
                raise AttributeError(name)
            held = self.functions()
            if name in _KERNELS:
                raise AttributeError(f"kernel {name!r} is not in this Kernels (it holds: {', '.join(sorted(held))}); "
                                     "build it with registry.resolve()")
            raise AttributeError(unknown_name("kernel", name, held))

    def functions(self) -> dict[str, Callable]:
        """The callables held, by kernel name."""
        return {k: v for k, v in vars(self).items() if k != "selection"}

    def replace(self, selection: Mapping[str, str] | None = None, **functions: Callable) -> Kernels:
        """A copy with the named kernels' callables swapped (a timing wrapper, a perturbation);
        ``selection`` relabels them in the recorded selection."""
        return Kernels({**self.functions(), **functions},
                       self.selection if selection is None else {**self.selection, **selection})

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


def reference_kernels() -> Kernels:
    """Every kernel's ``reference`` variant: ``resolve({})``, for callers without a config (tests, studies)."""
    return resolve({}, where="reference_kernels()")


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
    """The kernel's contract: its Protocol's docstring."""
    return inspect.getdoc(kernels()[kernel_name].contract) or ""


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
