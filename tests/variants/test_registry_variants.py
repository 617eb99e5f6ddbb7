"""Registry-driven check: every registered variant against its kernel's reference.

Cases come from each kernel's own generator (real models where the kernel needs
them); the kernel's ``check`` holds its tolerance. Approximate variants are
checked with the same cases but only for shape/dtype/finite output; their
end-to-end parity is measured by the harness.
"""

from __future__ import annotations

import numpy as np
import pytest

from aubench.pipeline import registry

from ..conftest import MODELS, SLOW_CASE_KERNELS

ALL = [(k.name, v.name) for k in registry.kernels().values() for v in k.variants.values()]
PARAMS = [pytest.param(k, v, id=f"{k}={v}", marks=pytest.mark.slow if k in SLOW_CASE_KERNELS else ())
          for k, v in ALL]


def test_every_kernel_has_a_reference_variant():
    for k in registry.kernels().values():
        assert registry.REFERENCE in k.variants, f"kernel {k.name} has no reference variant"


@pytest.mark.parametrize("kernel_name,variant_name", PARAMS)
def test_variant_matches_reference(kernel_name, variant_name):
    k = registry.kernels()[kernel_name]
    v = k.variants[variant_name]
    reason = v.unavailable_reason()
    if reason is not None:
        pytest.skip(f"unavailable: {reason}")
    ref = k.variants[registry.REFERENCE].load()
    fn = v.load()
    cases = list(k.cases(np.random.default_rng(1234), MODELS))
    assert cases, f"kernel {kernel_name} generated no cases"
    for case in cases:
        expected = ref(*case.args, **case.kwargs)
        actual = fn(*case.args, **case.kwargs)
        if v.approximate:
            for a in np.atleast_1d(actual) if isinstance(actual, np.ndarray) else ():
                assert np.all(np.isfinite(a))
        else:
            k.check(expected, actual, case)


def test_every_variant_documents_its_difference():
    for k in registry.kernels().values():
        for v in k.variants.values():
            assert v.summary.strip(), f"{k.name}={v.name} has no summary"
            if v.unavailable_reason() is None:
                fn = v.load()
                assert (fn.__doc__ or "").strip() or hasattr(fn, "py_func"), f"{k.name}={v.name} has no docstring"
