"""The wheel carries the built tracker and dashboard bundles: refuse to build one without them.

`make wheel` builds them first (`make build`: npm, Node.js); the wheel then needs no Node.js.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUILD = Path(__file__).parent / "src" / "jetrack" / "static" / "build"
# One file of each bundle that `jetrack serve` hands out.
REQUIRED = ("tracker/script.js", "dashboard/.vite/manifest.json")


class BuildPyWithBundles(build_py):
    def run(self) -> None:
        # An editable install (`make install`, before `make build`) serves the bundles from
        # src/ once they are built; only a wheel must carry them.
        missing = [name for name in REQUIRED if not (BUILD / name).is_file()]
        if missing and not getattr(self, "editable_mode", False):
            raise SystemExit(
                f"src/jetrack/static/build lacks {', '.join(missing)}: run `make build` "
                "(npm builds of the tracker and the dashboard) before building the wheel"
            )
        super().run()


setup(cmdclass={"build_py": BuildPyWithBundles})
