#!/usr/bin/env python
# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports of the idempotence gate (called by scripts/verify_idempotence.sh).

    stability-ops-idempotence-report meta    --image DISTRO=REF [--image DISTRO=REF ...] --output META.json
    stability-ops-idempotence-report role    --scenario NAME --distro DISTRO --scenario-dir DIR --records DIR --log FILE
                                  --molecule-rc N --duration S --meta META.json --output REPORT.json
    stability-ops-idempotence-report summary --run-dir DIR --meta META.json --run-id ID --selection default|explicit
                                  --distro-selection default|explicit --jobs N --duration S
                                  [--baseline FILE] [--update-baseline] [--check-baseline]
    stability-ops-idempotence-report compare --baseline FILE --summary SUMMARY.json

Every document is validated against docs/audit/idempotence-report.schema.json
before it is written. The reports of a run are <run dir>/<scenario>/<distro>/report.json.
Exit codes: 0 passed, 1 a role failed or the baseline differs, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import subprocess
import sys
import tarfile
import typing as t
from datetime import UTC, datetime
from pathlib import Path

import yaml
from ansible.release import __version__ as ansible_core_version

from stability_ops_dev import idempotence
from stability_ops_dev.paths import REPO_ROOT as ROOT

SCHEMA_PATH = ROOT / "docs" / "audit" / "idempotence-report.schema.json"
DEFAULT_BASELINE = ROOT / "docs" / "audit" / "idempotence-baseline.json"


def _run(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return ""


def validate(document: t.Mapping[str, t.Any]) -> None:
    """Raise jsonschema.ValidationError when the document does not follow the shipped schema."""
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)


def write(path: str | Path, document: t.Mapping[str, t.Any]) -> None:
    validate(document)
    idempotence.write_json(str(path), document)


def display_path(path: str | Path) -> str:
    """A path relative to the repository when it is inside it, else absolute."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


def read(path: str | Path) -> dict[str, t.Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def image_os_version_id(image: str) -> str | None:
    """VERSION_ID of an image's os-release, copied out of a created (never started) container.

    ``docker cp`` works against any daemon, a remote one (a CI job talking to the
    runner's socket) included; None when the image or the file is missing.
    """
    container = _run("docker", "create", image)
    if not container:
        return None
    try:
        # os-release is a symlink to ../usr/lib/os-release on Debian: copy the target.
        archive = subprocess.run(["docker", "cp", f"{container}:/usr/lib/os-release", "-"],
                                 capture_output=True, check=False, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        archive = b""
    finally:
        _run("docker", "rm", container)
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            member = tar.extractfile("os-release")
            return idempotence.os_release_value(member.read().decode("utf-8")) if member else None
    except (tarfile.TarError, KeyError):
        return None


def collect_meta(images: t.Mapping[str, str]) -> dict[str, t.Any]:
    """The run's metadata; ``images`` maps each distribution of the run to its image ref, in run order."""
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    return {
        "timestamp": datetime.now(tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "git_commit": _run("git", "rev-parse", "HEAD") or "unknown",
        "git_dirty": bool(_run("git", "status", "--porcelain", "--untracked-files=no")),
        "versions": {
            "ansible_core": ansible_core_version,
            "molecule": importlib.metadata.version("molecule"),
            "collection": str(galaxy["version"]),
            "python": sys.version.split()[0],
        },
        "images": {
            distro: {
                "ref": ref,
                "id": _run("docker", "image", "inspect", "--format", "{{.Id}}", ref) or "unknown",
                "os_version_id": image_os_version_id(ref),
            }
            for distro, ref in images.items()
        },
    }


def distro_image(value: str) -> tuple[str, str]:
    """``--image debian13=stability-ops-test:debian13-<hash>`` as a (distro, ref) pair."""
    distro, sep, ref = value.partition("=")
    if not (sep and distro and ref):
        raise argparse.ArgumentTypeError(f"expected DISTRO=REF, got {value!r}")
    return distro, ref


def cmd_meta(args: argparse.Namespace) -> int:
    images = dict(args.image)
    if len(images) != len(args.image):
        print("ERROR: a distribution is given twice with --image", file=sys.stderr)
        return 2
    idempotence.write_json(args.output, collect_meta(images))
    return 0


def cmd_role(args: argparse.Namespace) -> int:
    log_path = Path(args.log)
    log_text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    report = idempotence.role_report(
        scenario=args.scenario,
        distro=args.distro,
        scenario_dir=args.scenario_dir,
        runs=idempotence.load_runs(args.records),
        molecule_rc=args.molecule_rc,
        log_text=log_text,
        duration=args.duration,
        meta=read(args.meta),
        log_path=display_path(log_path),
    )
    write(args.output, report)
    status = "passed" if report["passed"] else f"FAILED at {report['failed_step']}"
    name = idempotence.pair_id(args.scenario, args.distro)
    print(f"{name}: {status} ({report['duration_s']:.0f}s)", file=sys.stderr)
    return 0 if report["passed"] else 1


def cmd_summary(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    reports = [read(path) for path in sorted(run_dir.glob("*/*/report.json"))]
    summary = idempotence.run_summary(
        reports,
        read(args.meta),
        run_id=args.run_id,
        selection=args.selection,
        distro_selection=args.distro_selection,
        jobs=args.jobs,
        duration=args.duration,
    )
    write(run_dir / "summary.json", summary)
    print(idempotence.render_table(summary))
    failures = idempotence.render_failures(reports)
    if failures:
        print(f"\n{failures}")
    print(f"\nreports: {display_path(run_dir)}/")
    rc = 0 if summary["passed"] else 1
    baseline_path = Path(args.baseline)
    if args.check_baseline:
        rc = max(rc, compare(baseline_path, summary))
    if args.update_baseline:
        if not summary["passed"]:
            print(f"baseline NOT updated: the run did not pass ({baseline_path.name} unchanged)", file=sys.stderr)
            return 1
        current = read(baseline_path) if baseline_path.exists() else None
        write(baseline_path, idempotence.update_baseline(current, summary))
        print(f"baseline updated: {display_path(baseline_path)}", file=sys.stderr)
    return rc


def compare(baseline_path: Path, summary: t.Mapping[str, t.Any]) -> int:
    if not baseline_path.exists():
        print(f"baseline check FAILED: {baseline_path} does not exist (run with --update-baseline)", file=sys.stderr)
        return 1
    problems = idempotence.compare_baseline(read(baseline_path), summary)
    if problems:
        print("baseline check FAILED (update it with --update-baseline once the change is accepted):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"baseline check passed: {display_path(baseline_path)}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    return compare(Path(args.baseline), read(args.summary))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)

    meta = sub.add_parser("meta", help="versions, image of each distribution, commit and timestamp of this run")
    meta.add_argument("--image", type=distro_image, action="append", required=True, metavar="DISTRO=REF")
    meta.add_argument("--output", required=True)
    meta.set_defaults(func=cmd_meta)

    role = sub.add_parser("role", help="judge one scenario from its run records")
    role.add_argument("--scenario", required=True)
    role.add_argument("--distro", required=True)
    role.add_argument("--scenario-dir", required=True)
    role.add_argument("--records", required=True)
    role.add_argument("--log", required=True)
    role.add_argument("--molecule-rc", type=int, required=True)
    role.add_argument("--duration", type=float, required=True)
    role.add_argument("--meta", required=True)
    role.add_argument("--output", required=True)
    role.set_defaults(func=cmd_role)

    summary = sub.add_parser("summary", help="summary of a run, table, failures, baseline")
    summary.add_argument("--run-dir", required=True)
    summary.add_argument("--meta", required=True)
    summary.add_argument("--run-id", required=True)
    summary.add_argument("--selection", choices=("default", "explicit"), required=True)
    summary.add_argument("--distro-selection", choices=("default", "explicit"), required=True)
    summary.add_argument("--jobs", type=int, required=True)
    summary.add_argument("--duration", type=float, required=True)
    summary.add_argument("--baseline", default=str(DEFAULT_BASELINE))
    summary.add_argument("--update-baseline", action="store_true")
    summary.add_argument("--check-baseline", action="store_true")
    summary.set_defaults(func=cmd_summary)

    comp = sub.add_parser("compare", help="compare a run summary with the baseline")
    comp.add_argument("--baseline", default=str(DEFAULT_BASELINE))
    comp.add_argument("--summary", required=True)
    comp.set_defaults(func=cmd_compare)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
