"""The engine is plain Decimal code: importing all of it loads no Django, no DRF, no database."""

import subprocess
import sys

IMPORT_EVERY_ENGINE_MODULE = """
import importlib, pkgutil, sys
import roi.engine
for module in pkgutil.iter_modules(roi.engine.__path__):
    importlib.import_module(f"roi.engine.{module.name}")
print(sorted({name.split(".")[0] for name in sys.modules} & {"django", "rest_framework", "psycopg", "dashboards"}))
"""


def test_importing_the_engine_loads_no_framework() -> None:
    # A fresh interpreter: this test process has Django loaded already.
    loaded = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_ENGINE_MODULE], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
