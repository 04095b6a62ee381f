"""The two ways the README installs the module: `scripts/dev build`
registers build/python with Debian's python3 (a .pth file, so a bare
`python3 -c "import dspjit"` works from any directory), and
`pip install --no-build-isolation --no-index .` installs the package into a
virtual environment, offline, with Debian's setuptools."""

import os
import pathlib
import subprocess
import sys

import dspjit

from conftest import ROOT

# build/python/dspjit/__init__.py -> build/
BUILD = pathlib.Path(dspjit.__file__).resolve().parents[2]
CHECK = ("import dspjit, numpy as np; "
         "k = dspjit.compile_source('io 1 -> 1; process { out = in * 0.5; }'); "
         "print(dspjit.__file__); "
         "print(k.instance().process(np.ones(4, np.float32)).tolist())")


def environment():
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def test_a_bare_import_works_from_any_directory(tmp_path):
    # Debian's interpreter (the one the module is built for), no PYTHONPATH,
    # run from elsewhere: only the .pth that scripts/dev build writes can
    # make it find the module.
    run = subprocess.run(["/usr/bin/python3", "-c", CHECK], cwd=tmp_path,
                         env=environment(), capture_output=True, text=True)
    assert run.returncode == 0, (
        "import dspjit failed without PYTHONPATH (scripts/dev build writes "
        "dspjit-build.pth into Debian's site directory):\n" + run.stderr)
    where, result = run.stdout.splitlines()
    assert where.endswith(os.path.join("python", "dspjit", "__init__.py"))
    assert result == "[0.5, 0.5, 0.5, 0.5]"


def test_pip_installs_the_package_into_a_venv_offline(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                    str(venv)], check=True)
    env = environment()
    # The build directory the tests run from: only the module's target is
    # brought up to date, nothing reconfigured.
    env["DSPJIT_BUILD_DIR"] = str(BUILD)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-build-isolation",
         "--no-index", "--quiet", str(ROOT)],
        env=env, capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    run = subprocess.run([str(venv / "bin" / "python"), "-c", CHECK],
                         cwd=tmp_path, env=environment(), capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    where, result = run.stdout.splitlines()
    # The venv's copy, not build/python through the .pth.
    assert pathlib.Path(where).resolve().is_relative_to(venv.resolve()), where
    assert result == "[0.5, 0.5, 0.5, 0.5]"
