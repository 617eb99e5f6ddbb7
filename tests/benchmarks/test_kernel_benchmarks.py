"""Microbenchmarks of every variant of every kernel, discovered from the registry.

Each benchmark runs one variant over all of its kernel's generated cases
(``Kernel.cases``, the same inputs the registry-driven test checks). Names carry
the kernel, the variant and :meth:`~aubench.pipeline.registry.Variant.source_hash`, so
pytest-benchmark's ``--benchmark-compare`` only lines up runs of the same code:
changed code reads as a new benchmark ("not comparable"), never as a regression.

By default (``--benchmark-disable`` in pyproject's addopts) each runs once as a
smoke test. To measure and keep the figures::

    pytest tests/benchmarks --benchmark-enable --benchmark-autosave
    pytest tests/benchmarks --benchmark-enable --benchmark-compare --benchmark-compare-fail=median:25%

JIT compilation is kept out of the measured rounds: the variant is called once on
every case before timing.
"""

from __future__ import annotations

import numpy as np
import pytest

from aubench.pipeline import registry

from ..conftest import MODELS, SLOW_CASE_KERNELS

ALL = [(k.name, v.name, v.source_hash()) for k in registry.kernels().values() for v in k.variants.values()]
PARAMS = [pytest.param(k, v, h, id=f"{k}-{v}-{h}", marks=pytest.mark.slow if k in SLOW_CASE_KERNELS else ())
          for k, v, h in ALL]


@pytest.mark.parametrize("kernel_name,variant_name,source_hash", PARAMS)
def test_kernel_variant(benchmark, kernel_name, variant_name, source_hash):
    kernel = registry.kernels()[kernel_name]
    variant = kernel.variants[variant_name]
    reason = variant.unavailable_reason()
    if reason is not None:
        pytest.skip(f"unavailable: {reason}")
    fn = variant.load()
    cases = list(kernel.cases(np.random.default_rng(1234), MODELS))
    assert cases, f"kernel {kernel_name} generated no cases"
    benchmark.group = kernel_name
    benchmark.extra_info.update(kernel=kernel_name, variant=variant_name, source_hash=source_hash,
                                cases=len(cases))
    if not benchmark.disabled:
        for case in cases:  # warm-up: JIT compilation and caches, outside the measured rounds
            fn(*case.args, **case.kwargs)

    def run_all():
        for case in cases:
            fn(*case.args, **case.kwargs)

    benchmark(run_all)
