"""eisim's Python module, built by CMake: `pip install --no-build-isolation .` (docs/python.md).

The compiled part is the CMake target eisim_python, built in EISIM_BUILD_DIR (default build/,
the README's build, so that only the module's own file is compiled when the CLI is built) for
the interpreter that runs pip. Offline: nothing is downloaded (numpy and h5py are Debian's;
make the virtual environment with `python3 -m venv --system-site-packages`).
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
    VERSION = re.search(r"project\(eisim VERSION ([0-9.]+)", f.read()).group(1)
# setuptools' own build files go under build/setuptools, beside the CMake build, not in the sources.
os.makedirs(os.path.join(ROOT, "build", "setuptools"), exist_ok=True)


class cmake_build(build_ext):
    def build_extension(self, ext):
        build = os.path.abspath(os.environ.get("EISIM_BUILD_DIR", os.path.join(ROOT, "build")))
        subprocess.check_call(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                               "-DEISIM_NATIVE=" + os.environ.get("EISIM_NATIVE", "ON"),
                               "-DEISIM_MODULE_PYTHON=" + sys.executable], stdout=subprocess.DEVNULL)
        subprocess.check_call(["cmake", "--build", build, "--target", "eisim_python", "-j", str(os.cpu_count() or 2)])
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        built = glob.glob(os.path.join(build, "python", "eisim", "_eisim*" + suffix))
        if not built:
            found = glob.glob(os.path.join(build, "python", "eisim", "_eisim*"))
            sys.exit(f"eisim: {build} holds a module for another Python ({', '.join(map(os.path.basename, found)) or 'none'}; "
                     f"this one needs _eisim{suffix}): give this Python its own build with EISIM_BUILD_DIR=build-python")
        dest = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(built[0], dest)


setup(
    name="eisim",
    version=VERSION,
    description="Learning in biologically constrained excitatory/inhibitory circuits (Python module)",
    packages=["eisim"],
    package_dir={"eisim": "python/eisim"},
    ext_modules=[Extension("eisim._eisim", sources=[])],
    cmdclass={"build_ext": cmake_build},
    python_requires=">=3.9",
    options={"build": {"build_base": os.path.join(ROOT, "build", "setuptools")},
             "egg_info": {"egg_base": os.path.join(ROOT, "build", "setuptools")}},
    zip_safe=False,
)
