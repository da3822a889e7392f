"""scripts/train-v2-fast counts the machine's cores for its render processes, whatever the BLAS
and OpenMP settings of the environment (the second GPU sitting's `nproc` said 1 because the
script had set OMP_NUM_THREADS=1, and no render pool ran)."""
import os
import pathlib
import subprocess

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "train-v2-fast"


def run_plan(tmp_path, **env) -> subprocess.CompletedProcess:
    run_env = {k: v for k, v in os.environ.items() if k not in ("WORKERS", "STATE")}
    run_env.update(env, PLAN_ONLY="1", DEVICE="cpu")
    return subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out")], env=run_env,
                          capture_output=True, text=True, timeout=60)


def plan(tmp_path, **env) -> str:
    done = run_plan(tmp_path, **env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_cores_are_counted_before_omp_threads_are_limited(tmp_path):
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = cores - 1 if cores > 2 else 1
    line = plan(tmp_path, OMP_NUM_THREADS="1")
    assert line == f"cores: {cores}; render processes: {workers}"
    assert (tmp_path / "out" / "run.log").read_text().strip() == line


def test_workers_can_be_set(tmp_path):
    assert plan(tmp_path, WORKERS="5").endswith("render processes: 5")


def test_a_bad_worker_count_is_refused(tmp_path):
    done = run_plan(tmp_path, WORKERS="0")
    assert done.returncode == 1 and "WORKERS must be a positive whole number" in done.stderr
