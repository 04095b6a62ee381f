"""dspjit inside Dask (python/examples/dask_render.py): a local cluster of
worker processes renders a set of files through a script, each with its own
parameter values; the files are identical to a serial run, and each worker
compiles the script once."""

import importlib
import os
import pathlib

import numpy as np
import pytest

import dspjit

distributed = pytest.importorskip("dask.distributed")

EXAMPLES_DIR = pathlib.Path(__file__).resolve().parents[1] / "examples"


def import_example(monkeypatch):
    """Imports python/examples/dask_render.py by name, here and in the
    workers (spawned processes, which inherit the environment): Dask sends
    a task's function by reference to its module."""
    monkeypatch.syspath_prepend(str(EXAMPLES_DIR))
    paths = [str(EXAMPLES_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    return importlib.import_module("dask_render")


def test_cluster_renders_as_a_serial_run(examples, tmp_path, monkeypatch):
    example = import_example(monkeypatch)
    rng = np.random.default_rng(4)
    src = tmp_path / "in"
    src.mkdir()
    for i in range(4):
        x = rng.standard_normal((12000 + 1000 * i, 2)).astype(np.float32) * 0.3
        dspjit.write_audio(str(src / f"take{i}.wav"), x, 48000, "float")
    script = str(examples / "echo.dsp")
    jobs = list(example.jobs_for(src, tmp_path / "cluster", "mix", [0.2, 0.5, 0.8]))
    (tmp_path / "cluster").mkdir()
    assert len(jobs) == 12

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
    with distributed.Client(cluster) as client, cluster:
        results = example.render_all(client, script, jobs, tail=0.25)

    # Each worker process compiled once (one rate), however many files it took.
    pids = {r["pid"] for r in results}
    assert 1 <= len(pids) <= 2
    assert sum(r["compiled"] for r in results) == len(pids)

    # The same jobs, serially in this process.
    (tmp_path / "serial").mkdir()
    for src_path, dst, params in jobs:
        serial = dst.replace("/cluster/", "/serial/")
        example.render_file(script, src_path, serial, params, tail=0.25)
        a, rate_a, _ = dspjit.read_audio(dst)
        b, rate_b, _ = dspjit.read_audio(serial)
        assert rate_a == rate_b == 48000
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    # And the parameters did reach the files: three mixes, three results.
    outs = [dspjit.read_audio(dst)[0] for _, dst, _ in jobs[:3]]
    assert not np.array_equal(outs[0], outs[1]) and not np.array_equal(outs[1], outs[2])
