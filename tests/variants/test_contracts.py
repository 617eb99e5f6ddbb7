"""Registry-driven check: every registered variant has its kernel's contract signature.

The contracts are the Protocols of :mod:`aubench.pipeline.contracts`; a variant must take
exactly the parameters of its kernel's ``__call__`` (names, kinds, defaults), so the stages
can call any variant the way the contract says. A new variant or kernel is checked here
without editing this file. Whether a variant computes the same numbers is
``test_registry_variants.py``.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest

from aubench.pipeline import contracts, registry

ALL = [(k.name, v.name) for k in registry.kernels().values() for v in k.variants.values()]


def _parameters(fn) -> list[tuple[str, inspect._ParameterKind, object]]:
    """(name, kind, default) of each parameter; a Numba dispatcher is read through the function it wraps."""
    fn = getattr(fn, "py_func", fn)
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def _contract_parameters(contract: type) -> list[tuple[str, inspect._ParameterKind, object]]:
    return _parameters(contract.__call__)[1:]  # without self


def _protocols_in_contracts() -> dict[str, type]:
    return {name: obj for name, obj in vars(contracts).items()
            if isinstance(obj, type) and typing.Protocol in obj.__mro__ and obj.__module__ == contracts.__name__}


@pytest.mark.parametrize("kernel_name,variant_name", ALL, ids=[f"{k}={v}" for k, v in ALL])
def test_variant_signature_is_the_contract(kernel_name, variant_name):
    kernel = registry.kernels()[kernel_name]
    variant = kernel.variants[variant_name]
    reason = variant.unavailable_reason()
    if reason is not None:
        pytest.skip(f"unavailable: {reason}")
    expected = _contract_parameters(kernel.contract)
    got = _parameters(variant.load())
    assert got == expected, (
        f"{kernel_name}={variant_name} ({variant.target}) takes {got}; its contract "
        f"{kernel.contract.__qualname__} takes {expected}: rename or reorder the variant's parameters")


def test_every_kernel_has_a_contract_and_every_contract_a_kernel():
    declared = registry.kernels()
    protocols = _protocols_in_contracts()
    for name, kernel in declared.items():
        assert kernel.contract in protocols.values(), f"kernel {name}: its contract is not in aubench.pipeline.contracts"
        expected_name = "".join(part.capitalize() for part in name.split("_"))
        assert kernel.contract.__name__ == expected_name, f"kernel {name}: contract named {kernel.contract.__name__}"
    orphans = set(protocols) - {k.contract.__name__ for k in declared.values()}
    assert not orphans, f"contracts without a kernel: {sorted(orphans)} (declare one in variants/<kernel>/__init__.py)"


def test_kernels_has_one_attribute_per_kernel_typed_with_its_contract():
    hints = typing.get_type_hints(registry.Kernels)
    fields = {f.name for f in dataclasses.fields(registry.Kernels)} - {"selection"}
    declared = registry.kernels()
    assert fields == set(declared), (f"Kernels attributes {sorted(fields ^ set(declared))} have no kernel or "
                                     "a kernel has no Kernels attribute (pipeline/registry.py)")
    for name, kernel in declared.items():
        assert hints[name] is kernel.contract, f"Kernels.{name} is typed {hints[name]}, not {kernel.contract}"
    assert not fields & set(vars(registry.Kernels)), "a kernel name shadows a method of Kernels"


@pytest.mark.parametrize("kernel_name", sorted(registry.kernels()))
def test_contract_states_what_habit_1_asks(kernel_name):
    """Shapes and dtypes (Parameters, Returns), the tolerance and the C++ function it reproduces."""
    doc = registry.contract_doc(kernel_name)
    assert doc.startswith(f"Kernel ``{kernel_name}``: "), doc.splitlines()[0]
    for section in ("Parameters\n----------", "Returns\n-------", "Tolerance: "):
        assert section in doc, f"contract of {kernel_name} has no {section.splitlines()[0]!r}"
    assert ".cpp::" in doc or ".h::" in doc, f"contract of {kernel_name} cites no C++ function (File.cpp::Function)"
    names = [name for name, _, _ in _contract_parameters(registry.kernels()[kernel_name].contract)]
    for name in names:
        assert name in doc, f"contract of {kernel_name} does not describe its parameter {name!r}"
