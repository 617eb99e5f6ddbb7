from __future__ import annotations

import subprocess
import sys

from pipeline import cli


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
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(tmp_path / "x.avi"),
                           "-o", str(tmp_path), "--config", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert str(bad) in lines[0]
