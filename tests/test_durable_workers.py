"""A worker of ``estimate --engine durable`` (durable_rules on every core)
loads neither Polars nor PyArrow (≈120 MB a process): it imports
benefits.finance.batch, and through it the engine, caseload, costing and
finance packages, whose columnar halves are imported on first use
(engine/lazy.py, costing/__init__.py). Each check runs in a fresh
interpreter, since this test process has Polars loaded already."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "fixtures" / "caseload-sample.jsonl"
HEAVY = ("polars", "pyarrow")


def _python(args: list, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}     # this checkout, whatever the script's folder
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_durable_workers_modules_import_no_polars_or_pyarrow():
    # benefits.cli too: the `benefits` console script imports it, and a spawn
    # worker runs the parent's main script again before unpickling its task.
    code = ("import sys, benefits.cli, benefits.finance.batch, benefits.finance.estimate; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    done = _python(["-c", code], ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# A stand-in for the `benefits` console script: spawn runs it again (as
# __mp_main__) in each worker, so its top-level imports are the worker's.
# The durable estimate's chunk function is wrapped to run the real one and
# then refuse (an error the parent re-raises) if the worker loaded Polars.
SCRIPT = textwrap.dedent(f"""
    import sys
    from benefits.cli import main   # what the console script imports
    from benefits.finance import batch

    def checked_chunk(task):
        tally, rejects = batch.estimate_chunk(task)
        loaded = [m for m in {HEAVY!r} if m in sys.modules]
        if loaded:
            raise RuntimeError(f"worker loaded {{loaded}}")
        return tally, rejects

    if __name__ == "__main__":
        import importlib, json
        from benefits.finance import estimate
        module = importlib.import_module("benefits.finance.estimate")   # the attribute is the function
        lines = open(sys.argv[1], encoding="utf-8").read().splitlines()[:300]
        module.estimate_chunk = checked_chunk
        result = estimate([json.loads(line) for line in lines], 2013, engine="durable", workers=2)
        print(result["counts"]["evaluated"] + result["counts"]["rejected"])
""")


def test_the_durable_estimates_workers_run_without_polars(tmp_path):
    script = tmp_path / "durable_estimate.py"
    script.write_text(SCRIPT, encoding="utf-8")
    done = _python([str(script), str(SAMPLE)], ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "300"     # every row went through a worker's checked chunk
