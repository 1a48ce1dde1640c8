"""``python -m benchmarks.compat``: the SDK's test suite against a real Sift, per area.

Ports: the SDK's fixtures hard-code 127.0.0.1:7700. With ``--isolate auto`` (default) the
server and tests run inside a private network namespace (``unshare -rn``), so the run
neither needs 7700 free on the host nor disturbs anyone else's server there; where
namespaces are unavailable it falls back to the host network and refuses a busy port.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.compat import report, sdk
from benchmarks.compat.server import sift_server

REPO_ROOT = Path(__file__).resolve().parents[2]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compat", description=__doc__)
    parser.add_argument("--sdk-version", default=sdk.VERSION)
    parser.add_argument(
        "--isolate",
        choices=("auto", "yes", "no"),
        default="auto",
        help="run in a private network namespace (auto: when `unshare -rn` works)",
    )
    parser.add_argument(
        "--file",
        dest="files",
        action="append",
        help="run only this test file of the SDK (e.g. test_client.py); repeatable",
    )
    parser.add_argument("-k", dest="keyword", help="pytest -k expression")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per test")
    parser.add_argument("--show-output", action="store_true", help="stream pytest's output")
    parser.add_argument(
        "--failures",
        default="all",
        help="comma-separated areas whose failures to list ('all' or 'none')",
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    return parser


def _can_isolate() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rn", "ip", "link", "set", "lo", "up"], capture_output=True, check=False
    )
    return probe.returncode == 0


def _reexec_isolated(argv: list[str]) -> int:
    """Run this command again inside a new user+network namespace with loopback up."""
    inner = [sys.executable, "-m", "benchmarks.compat", "--isolate", "no", *argv]
    command = ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *inner]
    return subprocess.run(command, cwd=REPO_ROOT, check=False).returncode


def _run_suite(args: argparse.Namespace, python: Path, source: Path) -> int:
    results = sdk.CACHE / "results"
    results.mkdir(parents=True, exist_ok=True)
    junit = results / "junit.xml"
    pytest_log = results / "pytest.log"
    server_log = results / "sift.log"
    command = [
        str(python),
        "-m",
        "pytest",
        # The SDK's addopts turn on coverage, which we neither want nor install.
        "-o",
        "addopts=",
        "-p",
        "no:cacheprovider",
        f"--timeout={args.timeout}",
        "-q",
        "-rN",
        f"--junitxml={junit}",
        *([f"tests/{name}" for name in args.files] if args.files else ["tests"]),
        *(["-k", args.keyword] if args.keyword else []),
        *args.pytest_args,
    ]
    with tempfile.TemporaryDirectory(prefix="sift-compat-") as data_dir:
        print(f"sift: data in {data_dir}, log in {server_log}", flush=True)
        with sift_server(Path(data_dir), server_log):
            print("+", " ".join(command), f"(in {source})", flush=True)
            if args.show_output:
                completed = subprocess.run(command, cwd=source, check=False)
            else:
                with pytest_log.open("wb") as sink:
                    completed = subprocess.run(
                        command, cwd=source, stdout=sink, stderr=subprocess.STDOUT, check=False
                    )
                print(f"pytest output in {pytest_log}")
    if not junit.exists():
        print(f"pytest wrote no results (exit {completed.returncode})", file=sys.stderr)
        return completed.returncode or 1
    outcomes = report.read_junit(junit)
    print()
    print(report.table(outcomes))
    if args.failures != "none":
        areas = None if args.failures == "all" else set(args.failures.split(","))
        listed = report.failures(outcomes, areas)
        if listed:
            print("\nfailures:")
            print(listed)
    return 0 if completed.returncode in (0, 1) else completed.returncode


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    # Network access (pip) happens here, before any namespace cuts the machine off.
    source = sdk.sdist_dir(args.sdk_version)
    python = sdk.venv_python(args.sdk_version)
    isolate = args.isolate == "yes" or (args.isolate == "auto" and _can_isolate())
    if isolate and os.environ.get("SIFT_COMPAT_ISOLATED") != "1":
        os.environ["SIFT_COMPAT_ISOLATED"] = "1"
        raise SystemExit(_reexec_isolated(argv))
    raise SystemExit(_run_suite(args, python, source))
