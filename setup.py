"""Builds the extension of `pip install --no-build-isolation .` with the
project's CMake build (python/CMakeLists.txt), not with setuptools' compiler
calls: the module links the compiler and runtime libraries, LLVM and the
rest, which only the CMake build knows how to build.

The build directory is build/ (DSPJIT_BUILD_DIR to choose another),
configured if it is not configured yet; only the module's target is built.
The module is built for the interpreter running pip; when build/ is
configured for another, build-pip-python3.X/ is used instead."""

import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def interpreter():
    """The interpreter running pip, through any venv: what the module is
    built for (a venv's python is a link that may not outlive the build)."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def cached_python(build):
    """The Python3_EXECUTABLE a configured build directory uses, or None."""
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("Python3_EXECUTABLE:"):
                    return os.path.realpath(line.split("=", 1)[1].strip())
    except FileNotFoundError:
        pass
    return None


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        python = interpreter()
        build = os.path.join(ROOT, os.environ.get("DSPJIT_BUILD_DIR", "build"))
        cached = cached_python(build)
        if cached not in (None, python):
            # build/ is for another Python: a directory of this one's own,
            # so that the tests of build/ keep theirs.
            build = os.path.join(ROOT, "build-pip-" + os.path.basename(python))
            cached = cached_python(build)
        if cached is None:
            subprocess.run(["cmake", "-S", ROOT, "-B", build, "-G", "Ninja",
                            "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                            f"-DPython3_EXECUTABLE={python}"], check=True)
        subprocess.run(["cmake", "--build", build, "--target", "dspjit_python"],
                       check=True)
        built = os.path.join(build, "python", "dspjit")
        names = [n for n in os.listdir(built) if n.startswith("_dspjit.") and n.endswith(".so")]
        if len(names) != 1:
            raise RuntimeError(f"expected one _dspjit*.so in {built}, found {names}")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(built, names[0]), target)
        # The build's debug information is five sixths of the file, and
        # every install would zip and copy it.
        if shutil.which("strip"):
            subprocess.run(["strip", "--strip-debug", target], check=True)


setup(ext_modules=[Extension("dspjit._dspjit", sources=[])],
      cmdclass={"build_ext": CMakeBuild},
      # setuptools' own build directory would be build/, CMake's.
      options={"build": {"build_base": "build/setuptools"}})
