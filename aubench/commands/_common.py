"""Arguments shared by several commands: ``--config``, ``--variant``, ``--models``, ``--quiet``."""

from __future__ import annotations

import argparse

from aubench.pipeline import config as config_mod
from aubench.pipeline.errors import ConfigError

# What a command runs without --config: OpenFace's settings with every kernel's compiled variant
# (parity with C++ measured in experiments/RESULTS.md). `reference` stays one flag away.
DEFAULT_PRESET = "fast"


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", default=DEFAULT_PRESET,
                        help=f"TOML config file or preset name; default: {DEFAULT_PRESET} (OpenFace's settings, compiled "
                             "kernels that match its numbers); reference: the same settings with the plain NumPy "
                             "kernels (slow, the readable baseline)")
    parser.add_argument("--variant", action="append", default=[], metavar="KERNEL=VARIANT",
                        help="override one kernel's variant (repeatable), e.g. --variant fhog=numba")
    parser.add_argument("--models", metavar="DIR",
                        help="OpenFace model folder (with model/ and AU_predictors/); "
                             "default: AUBENCH_MODELS or `aubench models use`")


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def parse_variant_overrides(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        kernel, sep, name = item.partition("=")
        if not sep or not kernel or not name:
            raise ConfigError(f"--variant {item!r}: expected KERNEL=VARIANT, e.g. --variant fhog=numba")
        out[kernel.strip()] = name.strip()
    return out


def load_config(args: argparse.Namespace, **sections) -> config_mod.Config:
    """The config file (or preset) with CLI overrides applied (:func:`aubench.pipeline.config.build`)."""
    return config_mod.build(args.config, parse_variant_overrides(args.variant), **sections)
