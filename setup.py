"""Builds syncache's Python package through the project's own CMake build (one build
description): the module syncache._core is the CMake target _core. The experiment files
go into the package (syncache/data/experiments) beside its plotting subpackage
(syncache.plot), so that syncache.figure() works without the source tree.

    pip install --no-build-isolation .

SYNCACHE_BUILD_DIR=DIR reuses an existing CMake build tree (e.g. build/ after `make`)
instead of configuring a new one under build-python/.
"""

import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = os.environ.get("SYNCACHE_BUILD_DIR")
        if build:
            build = os.path.abspath(build)
        else:
            build = os.path.join(ROOT, "build-python", "cmake")
            subprocess.check_call([
                "cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                "-DSYNCACHE_BENCH=OFF", "-DSYNCACHE_MPI=OFF", "-DSYNCACHE_TESTS=OFF",
                "-DSYNCACHE_PYTHON=ON", f"-DPython_EXECUTABLE={sys.executable}",
            ])
        jobs = str(os.cpu_count() or 1)
        subprocess.check_call(["cmake", "--build", build, "--target", "_core", "-j", jobs])
        built = glob.glob(os.path.join(build, "python", "syncache", "_core*.so"))
        if not built:
            raise RuntimeError(f"the CMake build in {build} made no module _core")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built[0], target)


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        data = os.path.join(self.build_lib, "syncache", "data")
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(os.path.join(ROOT, "experiments"), os.path.join(data, "experiments"))


os.makedirs(os.path.join(ROOT, "build-python"), exist_ok=True)
setup(
    ext_modules=[CMakeExtension("syncache._core")],
    cmdclass={"build_ext": CMakeBuild, "build_py": BuildPyWithData},
    options={"build": {"build_base": "build-python"}, "egg_info": {"egg_base": "build-python"}},
)
