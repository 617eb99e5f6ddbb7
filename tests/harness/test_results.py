from __future__ import annotations

import errno
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from aubench.harness import results
from aubench.pipeline import config as config_mod
from aubench.pipeline import registry
from aubench.pipeline.errors import InputError, OutputError


def test_new_result_records_machine_code_config_and_variants():
    cfg = config_mod.preset("reference")
    doc = results.new_result("profile", cfg, {"input": "/x/default.wmv", "frames": 30, "landmarks_from": None})
    m = doc["machine"]
    assert m["cpu_model"] and m["cpu_count"] >= 1 and m["ram_bytes"] > 0
    for lib in ("python", "numpy", "opencv", "numba"):
        assert m["versions"][lib]
    assert "blas" in m and "env" in m
    # what decides the last bits of every figure: the CPU's vector extensions and OpenBLAS's kernel
    assert set(m["cpu_flags"]) == set(results.CPU_FLAGS) and m["cpu_flags"]["sse4_2"]
    from threadpoolctl import threadpool_info

    loaded = {p.get("architecture") for p in threadpool_info() if p.get("internal_api") == "openblas"}
    assert m["blas"]["kernel"] in loaded
    assert ("AVX-512" in results.describe_environment_line(doc)) == m["cpu_flags"]["avx512f"]
    assert doc["code"]["version"] and doc["code"]["commit"] and doc["code"]["dirty"] in (True, False)
    assert doc["config"]["hash"] == config_mod.config_hash(cfg)
    assert set(doc["variants"]) == set(registry.kernels())
    for v in doc["variants"].values():
        assert v["variant"] == "reference" and len(v["source_hash"]) == 12
    assert doc["key"] == results.workload_key(doc["config"]["hash"], doc["workload"])


def test_workload_key_ignores_the_folder_but_not_the_workload():
    key = results.workload_key("abc", {"input": "/a/default.wmv", "frames": 30, "landmarks_from": None})
    assert key == results.workload_key("abc", {"input": "/b/default.wmv", "frames": 30, "landmarks_from": None})
    assert key != results.workload_key("abd", {"input": "/a/default.wmv", "frames": 30, "landmarks_from": None})
    assert key != results.workload_key("abc", {"input": "/a/default.wmv", "frames": 31, "landmarks_from": None})
    assert key != results.workload_key("abc", {"input": "/a/default.wmv", "frames": 30, "landmarks_from": "x.csv"})


def test_save_load_round_trip_makes_values_json_safe(tmp_path):
    doc = results.new_result("parity", None)
    doc["x"] = {"a": np.float32(1.5), "b": np.arange(3), "c": float("nan")}
    path = results.save(doc, tmp_path / "sub" / "r.json")
    back = results.load(path)
    assert back["x"] == {"a": 1.5, "b": [0, 1, 2], "c": None}
    assert back["_path"] == str(path)
    assert not list(tmp_path.glob("sub/*.tmp"))


@pytest.mark.parametrize("content,needle", [
    ("not json", "not valid JSON"),
    (json.dumps({"schema": "other"}), "expected an aubench result"),
    (json.dumps([1, 2]), "expected an aubench result"),
])
def test_load_rejects_non_results_with_one_line(tmp_path, content, needle):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError) as exc:
        results.load(path)
    assert needle in str(exc.value) and str(path) in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(InputError, match="no such result file"):
        results.load(tmp_path / "missing.json")


def test_plain_turns_inf_into_null():
    assert results._plain({"v": [math.inf, 1]}) == {"v": [None, 1]}


def test_save_on_a_full_disk_or_into_a_folder_is_one_line(tmp_path, monkeypatch):
    with pytest.raises(OutputError, match="is a folder, expected the result file"):
        results.save({"a": 1}, tmp_path)

    def full(self, *a, **kw):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OutputError, match=f"no space left on device writing {tmp_path / 'r.json'} "
                                          r"\(r\.json was not written\); free space or choose another -o"):
        results.save({"a": 1}, tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []
