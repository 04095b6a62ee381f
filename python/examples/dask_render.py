"""Batch rendering with Dask: every file of a set through one script, each
with its own parameter values, on a cluster of worker processes.

    /usr/bin/python3 python/examples/dask_render.py examples/echo.dsp in/ out/ \\
        --set feedback=0.2,0.4,0.6 --workers 2

renders every .wav of in/ once per value (out/NAME-feedback=0.4.wav...). Dask
is the engine (Debian's python3-dask and python3-distributed): dspjit adds
only what runs in a task. The same code runs on a real cluster by giving
Client the scheduler's address (`Client("tcp://scheduler:8786")`, workers
started with `dask worker tcp://scheduler:8786` on each machine, the
script and the files where every worker sees them).

A kernel compiles once per worker process and sample rate (kernel_for
keeps it), and the compiled objects are shared between processes and runs
through the object cache (cache_dir), which makes a worker's compile a load
from disk.
"""

import argparse
import functools
import os
import pathlib
import tempfile

import dspjit

# Where compiled kernels are kept between workers and runs.
CACHE_DIR = os.path.join(tempfile.gettempdir(), "dspjit-cache")


@functools.lru_cache(maxsize=None)
def kernel_for(script, sample_rate):
    """The script compiled for one rate, once per process."""
    return dspjit.compile(script, sample_rate=sample_rate, cache_dir=CACHE_DIR)


def render_file(script, in_path, out_path, params, tail=0.0):
    """One task: a file through the script with `params` from its first
    frame, written in the input's format. Returns what a caller may want to
    check: the output's path, the worker's process id and whether this call
    compiled."""
    x, rate, fmt = dspjit.read_audio(in_path)
    compiled = kernel_for.cache_info().currsize
    kernel = kernel_for(script, rate)
    compiled = kernel_for.cache_info().currsize > compiled
    if tail:
        import numpy as np
        x = np.concatenate([x, np.zeros((int(tail * rate), x.shape[1]), x.dtype)])
    y = dspjit.render(kernel, x, rate, set=params)
    dspjit.write_audio(out_path, y, rate,
                       {"float": "float", "16-bit": "16", "24-bit": "24"}[fmt])
    return {"path": str(out_path), "pid": os.getpid(), "compiled": compiled}


def jobs_for(in_dir, out_dir, name, values):
    """(in_path, out_path, params) for every .wav of in_dir and value."""
    for path in sorted(pathlib.Path(in_dir).glob("*.wav")):
        for v in values:
            yield (str(path), str(pathlib.Path(out_dir) / f"{path.stem}-{name}={v:g}.wav"),
                   {name: v})


def render_all(client, script, jobs, tail=0.0):
    """Submits one task per job and waits for them: their results in order."""
    futures = [client.submit(render_file, script, src, dst, params, tail, pure=False)
               for src, dst, params in jobs]
    return client.gather(futures)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("script")
    parser.add_argument("in_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--set", required=True, help="NAME=V1,V2,...")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--tail", type=float, default=0.0)
    parser.add_argument("--scheduler", help="a cluster's address; default: a local one")
    args = parser.parse_args()
    from dask.distributed import Client, LocalCluster

    name, values = args.set.split("=", 1)
    jobs = list(jobs_for(args.in_dir, args.out_dir, name,
                         [float(v) for v in values.split(",")]))
    os.makedirs(args.out_dir, exist_ok=True)
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        client = Client(LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                     processes=True, dashboard_address=None))
    with client:
        results = render_all(client, os.path.abspath(args.script), jobs, args.tail)
    compiles = sum(r["compiled"] for r in results)
    print(f"{len(results)} files rendered by {len({r['pid'] for r in results})} "
          f"workers, {compiles} compiles")


if __name__ == "__main__":
    main()
