from __future__ import annotations

import subprocess
import sys

from aubench import cli


def test_help_lists_every_command(capsys):
    try:
        cli.main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_errors_are_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[landmarks]\nsigmaa = 1\n")
    proc = subprocess.run([sys.executable, "-m", "aubench.cli", "run", str(tmp_path / "x.avi"),
                           "-o", str(tmp_path), "--config", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert str(bad) in lines[0]


def test_blas_runs_on_one_thread_unless_the_user_sets_it():
    """The CLI pins OpenBLAS to one thread before NumPy loads it (threaded sums move results by
    an ulp per core count); a value the user exported is kept."""
    import os

    probe = ("import aubench.cli, numpy, os; "
             "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1"]
    out = subprocess.run([sys.executable, "-c", probe], env={**env, "OPENBLAS_NUM_THREADS": "2"},
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "1"]


def test_the_suite_runs_blas_as_the_cli_does():
    """tests/conftest.py pins BLAS to the CLI's one thread (unless exported), before NumPy loads it."""
    import os

    import numpy  # noqa: F401
    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    assert blas and all(i["num_threads"] == int(os.environ["OPENBLAS_NUM_THREADS"]) for i in blas), blas


def test_every_command_with_a_config_runs_fast_unless_told_otherwise(capsys):
    """`fast` (OpenFace's settings, compiled kernels) is the default preset; `reference` stays selectable."""
    from aubench.harness import gate

    parser = cli.build_parser()
    clip = "clip.avi"
    for argv in (["run", clip, "-o", "out"], ["detect", clip, "-o", "d.csv"], ["profile", clip], ["parity", clip]):
        assert parser.parse_args(argv).config == "fast", argv
        assert parser.parse_args(argv + ["--config", "reference"]).config == "reference", argv
        try:
            cli.main([argv[0], "--help"])
        except SystemExit:
            pass
        assert "default: fast" in " ".join(capsys.readouterr().out.split()), argv
    assert parser.parse_args(["gate"]).config is None and gate.DEFAULTS["config"] == "fast"  # from reports/gate.toml
