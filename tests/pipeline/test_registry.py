"""The registry's own behaviour, on a throw-away kernel (the real kernels are checked
by tests/variants/test_registry_variants.py)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Protocol

import numpy as np
import pytest

from aubench.pipeline import contracts, registry
from aubench.pipeline.errors import ConfigError


class ToySum(Protocol):
    """Kernel ``toy_sum``: the sum of a vector. Tolerance: exact."""

    def __call__(self, values) -> float: ...


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(registry, "_KERNELS", dict(registry.kernels()))

    def cases(rng, models_dir):
        return [registry.Case((rng.normal(size=5),))]

    def check(expected, actual, case):
        np.testing.assert_allclose(actual, expected)

    registry.kernel("toy_sum", contract=ToySum, summary="sum of a vector", cases=cases, check=check)
    registry.variant("toy_sum", "reference", "numpy:sum", "plain numpy.sum")
    registry.variant("toy_sum", "fast", "math:fsum", "math.fsum")
    registry.variant("toy_sum", "missing", "numpy:sum", "needs a package that is not installed",
                     requires=("no_such_package_xyz",))
    return registry


def test_resolve_defaults_to_reference_and_records_selection(toy):
    k = toy.resolve({"toy_sum": "fast"})
    assert k.selection["toy_sum"] == "fast"
    assert k.toy_sum([1.0, 2.0]) == 3.0
    assert toy.resolve({}).selection["toy_sum"] == "reference"


def test_unknown_kernel_and_variant_list_choices(toy):
    with pytest.raises(ConfigError, match='did you mean "toy_sum"'):
        toy.resolve({"toy_sun": "fast"})
    with pytest.raises(ConfigError, match="valid: fast, missing, reference"):
        toy.resolve({"toy_sum": "fastest"})


def test_missing_dependency_is_unavailable_not_an_import_error(toy):
    v = toy.kernels()["toy_sum"].variants["missing"]
    assert "no_such_package_xyz" in v.unavailable_reason()
    rows = {r["variant"]: r for r in toy.describe() if r["kernel"] == "toy_sum"}
    assert rows["missing"]["available"] is False and rows["fast"]["available"] is True
    with pytest.raises(ConfigError, match="unavailable"):
        toy.resolve({"toy_sum": "missing"})


def test_declaring_twice_is_refused(toy):
    with pytest.raises(ValueError):
        toy.kernel("toy_sum", contract=ToySum, summary="", cases=lambda r, m: [], check=lambda e, a, c: None)
    with pytest.raises(ValueError):
        toy.variant("toy_sum", "fast", "math:fsum", "again")


def test_a_contract_must_be_a_protocol_with_a_call(toy):
    with pytest.raises(TypeError, match="typing.Protocol with a __call__"):
        toy.kernel("toy_max", contract=max, summary="", cases=lambda r, m: [], check=lambda e, a, c: None)
    assert "toy_max" not in toy.kernels()
    assert toy.contract_doc("toy_sum") == inspect.cleandoc(ToySum.__doc__)


def test_unknown_attribute_on_kernels_names_choices(toy):
    k = toy.resolve({})
    with pytest.raises(AttributeError, match="toy_sum"):
        _ = k.toy_sun


def test_kernels_are_frozen_and_replace_returns_a_copy(toy):
    k = toy.resolve({"toy_sum": "fast"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        k.toy_sum = sum
    swapped = k.replace(selection={"toy_sum": "wrapped"}, toy_sum=lambda values: -1.0)
    assert swapped.toy_sum([1.0]) == -1.0 and swapped.selection["toy_sum"] == "wrapped"
    assert k.toy_sum([1.0, 2.0]) == 3.0 and k.selection["toy_sum"] == "fast"
    with pytest.raises(ValueError, match='did you mean "toy_sum"'):
        k.replace(toy_sun=sum)


def test_a_partial_kernels_says_what_it_holds(toy):
    k = toy.Kernels({"toy_sum": sum}, {"toy_sum": "builtin"})
    assert k.functions() == {"toy_sum": sum}
    with pytest.raises(AttributeError, match="kernel 'fhog' is not in this Kernels .it holds: toy_sum"):
        _ = k.fhog
    assert getattr(k, "calc_params", None) is None  # how a stage asks for an optional kernel
    with pytest.raises(TypeError, match="must be callable"):
        toy.Kernels({"toy_sum": 3}, {})


def test_reference_kernels_select_every_reference_variant():
    k = registry.reference_kernels()
    assert k.selection == {name: registry.REFERENCE for name in registry.kernels()}
    assert k.fhog is registry.kernels()["fhog"].variants[registry.REFERENCE].load()
    assert registry.contract_doc("fhog") == inspect.cleandoc(contracts.Fhog.__doc__)


def test_array_check_enforces_dtype_shape_and_tolerance():
    case = registry.Case((), label="c")
    exact = registry.array_check(np.float32)
    exact(np.ones(3, np.float32), np.ones(3, np.float32), case)
    with pytest.raises(AssertionError, match="bit-identical"):
        exact(np.ones(3, np.float32), np.array([1, 1, 1 + 1e-6], np.float32), case)
    with pytest.raises(AssertionError, match="float64"):
        exact(np.ones(3, np.float32), np.ones(3, np.float64), case)
    loose = registry.array_check(np.float64, atol=1e-3, rtol=1e-3)
    loose(np.full(2, 10.0), np.full(2, 10.0105), case)  # tol = 1e-3 + 1e-3 * 10
    with pytest.raises(AssertionError, match="max abs error"):
        loose(np.full(2, 10.0), np.full(2, 10.02), case)


def test_only_the_registry_imports_variants():
    """Resolution in one place: stages get resolved kernels from their caller, never a variant by name."""
    import ast
    from pathlib import Path

    import aubench.pipeline

    root = Path(aubench.pipeline.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            if any(m == "aubench.variants" or m.startswith("aubench.variants.") for m in modules):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == ["registry.py:" + str(_discovery_import_line(root / "registry.py"))], offenders


def _discovery_import_line(path) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip() == "import aubench.variants")
