"""The registry's own behaviour, on a throw-away kernel (the real kernels are checked
by tests/variants/test_registry_variants.py)."""

from __future__ import annotations

import numpy as np
import pytest

from aubench.pipeline import registry
from aubench.pipeline.errors import ConfigError


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(registry, "_KERNELS", dict(registry.kernels()))

    def cases(rng, models_dir):
        return [registry.Case((rng.normal(size=5),))]

    def check(expected, actual, case):
        np.testing.assert_allclose(actual, expected)

    registry.kernel("toy_sum", summary="sum of a vector", cases=cases, check=check)
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
        toy.kernel("toy_sum", summary="", cases=lambda r, m: [], check=lambda e, a, c: None)
    with pytest.raises(ValueError):
        toy.variant("toy_sum", "fast", "math:fsum", "again")


def test_unknown_attribute_on_kernels_names_choices(toy):
    k = toy.resolve({})
    with pytest.raises(AttributeError, match="toy_sum"):
        k.toy_sun


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
