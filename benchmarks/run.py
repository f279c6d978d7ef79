"""Benchmark promptgen's reference converter and splitter against the usual ways to do the same.

Builds MedQA-shaped workbooks and a JSON Lines file, cached in --data-dir. Runs every
command as a child process --repeat times, taking turns, so that a change in machine load
hits all of them alike. Prints Markdown tables of the median wall time, the median peak
resident memory (the child's ru_maxrss) and the ratios that the goals are set in.
Not part of the test suite.

Usage: python benchmarks/run.py [--rows 10000,200000,1000000] [--records 1000000] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import fixtures
from measure import Run, Summary, run_child

from promptgen.bake import bake_script
from promptgen.spec import ConverterSettings, SplitterSettings

SUBJECTS = Path(__file__).resolve().parent / "subjects"
# A run that takes longer than this is stopped and reported as timed out.
TIMEOUT = 1800.0


@dataclass(frozen=True)
class Subject:
    """A command to measure; ``skip`` gives the reason when it cannot run here."""

    name: str
    argv: tuple[str, ...]
    skip: str = ""


@dataclass(frozen=True)
class Goal:
    """A target ratio or limit, and whether this run met it."""

    text: str
    measured: str
    met: bool | None


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", default="10000,200000,1000000", help="data rows of each workbook, comma-separated (default: %(default)s)"
    )
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the file to split (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the median is reported (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10,000 rows and records, one run each")

    parser.add_argument(
        "--strings",
        choices=("shared", "inline"),
        default="shared",
        help="how the workbooks store text: in one shared string table as Excel does, or in each cell (default: %(default)s)",
    )
    parser.add_argument(
        "--naive-max-rows",
        type=int,
        default=200_000,
        help="largest workbook, in data rows, that the naive converter runs on; it keeps the whole workbook in memory (default: %(default)s)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "promptgen-benchmarks",
        help="folder for the generated inputs, kept between runs (default: %(default)s)",
    )
    parser.add_argument("--json", type=Path, help="also write the measurements to this JSON file")

    options = parser.parse_args()
    if options.quick:
        options.rows, options.records, options.repeat = "10000", 10_000, 1
    options.row_counts = [int(text.replace("_", "")) for text in options.rows.split(",") if text.strip()]
    return options


def machine_description() -> dict[str, str]:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    versions = {name: installed_version(name) for name in ("openpyxl", "python-calamine", "pandas")}
    return {
        "cpus": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "system": platform.platform(),
        "load average at start": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        **versions,
    }


def installed_version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def bake(folder: Path, name: str, settings: ConverterSettings | SplitterSettings) -> Path:
    path = folder / name
    path.write_text(bake_script(settings), encoding="utf-8")
    return path


def conversion_subjects(workbook: Path, rows: int, scripts: Path, out: Path, naive_max_rows: int) -> list[Subject]:
    python = sys.executable
    no_calamine = "" if has_module("python_calamine") else "python-calamine is not installed"
    return [
        Subject(
            "naive load_workbook + json.dump",
            (python, str(SUBJECTS / "naive_convert.py"), str(workbook), str(out / "naive.jsonl")),
            "" if rows <= naive_max_rows else f"above --naive-max-rows {naive_max_rows}",
        ),
        Subject(
            "pandas.read_excel + to_json",
            (python, str(SUBJECTS / "pandas_convert.py"), str(workbook), str(out / "pandas.jsonl")),
            "" if has_module("pandas") else "pandas is not installed",
        ),
        Subject("bare openpyxl read_only loop", (python, str(SUBJECTS / "bare_openpyxl.py"), str(workbook))),
        Subject("promptgen converter, openpyxl", (python, str(scripts / "converter_openpyxl.py"), str(workbook), str(out / "openpyxl.jsonl"))),
        Subject("bare python-calamine loop", (python, str(SUBJECTS / "bare_calamine.py"), str(workbook)), no_calamine),
        Subject(
            "promptgen converter, calamine",
            (python, str(scripts / "converter_calamine.py"), str(workbook), str(out / "calamine.jsonl")),
            no_calamine,
        ),
    ]


def split_subjects(records: Path, scripts: Path, out: Path) -> list[Subject]:
    python = sys.executable
    return [
        Subject(
            "naive json.loads + shuffle + dump",
            (python, str(SUBJECTS / "naive_split.py"), str(records), str(out / "naive-train.jsonl"), str(out / "naive-test.jsonl")),
        ),
        Subject("shuf", ("shuf", "-o", str(out / "shuffled.jsonl"), str(records)), "" if shutil.which("shuf") else "shuf is not on PATH"),
        Subject(
            "promptgen splitter",
            (python, str(scripts / "splitter.py"), str(records), str(out / "train.jsonl"), str(out / "test.jsonl")),
        ),
    ]


def measure_all(subjects: list[Subject], repeat: int, cwd: Path) -> dict[str, Summary]:
    """Run each subject ``repeat`` times, taking turns, and return their summaries by name."""
    runs: dict[str, list[Run]] = {subject.name: [] for subject in subjects if not subject.skip}
    for attempt in range(repeat):
        for subject in subjects:
            if subject.skip or (runs[subject.name] and not runs[subject.name][-1].ok):
                continue
            run = run_child(subject.argv, cwd, TIMEOUT)
            runs[subject.name].append(run)
            state = f"{run.seconds:.2f} s, {run.cpu_seconds:.2f} s CPU, {run.peak_mib:.0f} MiB" if run.ok else f"failed: {run.error}"
            print(f"  [{attempt + 1}/{repeat}] {subject.name}: {state}", file=sys.stderr, flush=True)
    return {name: Summary(name, tuple(found)) for name, found in runs.items()}


def table(subjects: list[Subject], summaries: dict[str, Summary], floors: dict[str, str]) -> list[str]:
    lines = [
        "| command | wall time | CPU time | peak memory | wall vs floor | CPU vs floor | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for subject in subjects:
        if subject.skip:
            lines.append(f"| {subject.name} | skipped: {subject.skip} | | | | | 0 |")
            continue
        summary = summaries[subject.name]
        if not summary.ok:
            lines.append(f"| {subject.name} | failed: {summary.error} | | | | | {len(summary.runs)} |")
            continue
        wall_ratio = cpu_ratio = ""
        floor = summaries.get(floors.get(subject.name, ""))
        if floor is not None and floor.ok:
            wall_ratio = f"{summary.seconds / floor.seconds:.2f}x"
            cpu_ratio = f"{summary.cpu_seconds / floor.cpu_seconds:.2f}x"
        lines.append(
            f"| {subject.name} | {summary.seconds:.2f} s | {summary.cpu_seconds:.2f} s | {summary.peak_mib:.0f} MiB "
            f"| {wall_ratio} | {cpu_ratio} | {len(summary.runs)} |"
        )
    return lines


def ratio_goal(text: str, summaries: dict[str, Summary], name: str, floor: str, limit: float) -> Goal:
    subject, base = summaries.get(name), summaries.get(floor)
    if subject is None or base is None or not subject.ok or not base.ok:
        return Goal(text, "not measured", None)
    ratio = subject.seconds / base.seconds
    cpu_ratio = subject.cpu_seconds / base.cpu_seconds
    return Goal(text, f"{ratio:.2f}x wall ({cpu_ratio:.2f}x CPU)", ratio <= limit)


def memory_goal(text: str, summaries: dict[str, Summary], name: str, limit_mib: float) -> Goal:
    subject = summaries.get(name)
    if subject is None or not subject.ok:
        return Goal(text, "not measured", None)
    return Goal(text, f"{subject.peak_mib:.0f} MiB", subject.peak_mib < limit_mib)


def main() -> None:
    options = parse_arguments()
    data = options.data_dir
    data.mkdir(parents=True, exist_ok=True)
    scripts = data / "scripts"
    scripts.mkdir(exist_ok=True)
    out = data / "out"
    out.mkdir(exist_ok=True)
    bake(scripts, "converter_openpyxl.py", ConverterSettings(sheet=fixtures.SHEET, engine="openpyxl"))
    bake(scripts, "converter_calamine.py", ConverterSettings(sheet=fixtures.SHEET, engine="calamine"))
    bake(scripts, "splitter.py", SplitterSettings())

    machine = machine_description()
    report = ["## Machine", ""] + [f"- {key}: {value}" for key, value in machine.items()] + [""]
    results: dict[str, dict[str, object]] = {}
    goals: list[Goal] = []
    conversion_floors = {
        "promptgen converter, openpyxl": "bare openpyxl read_only loop",
        "promptgen converter, calamine": "bare python-calamine loop",
        "naive load_workbook + json.dump": "bare openpyxl read_only loop",
        "pandas.read_excel + to_json": "bare openpyxl read_only loop",
    }

    for rows in options.row_counts:
        name = f"medqa-{rows}-{options.strings}-v{fixtures.GENERATOR_VERSION}.xlsx"
        print(f"workbook of {rows} rows ({options.strings} strings)", file=sys.stderr, flush=True)
        workbook = fixtures.cached(data, name, lambda path: fixtures.write_workbook(path, rows, options.strings))
        subjects = conversion_subjects(workbook, rows, scripts, out, options.naive_max_rows)
        summaries = measure_all(subjects, options.repeat, data)
        size = workbook.stat().st_size / 1e6
        report += [f"## Conversion: {rows:,} rows, {size:.1f} MB workbook, {options.strings} strings", ""]
        report += table(subjects, summaries, conversion_floors) + [""]
        results[f"convert-{rows}"] = {name: [asdict(run) for run in summary.runs] for name, summary in summaries.items()}
        goals.append(
            ratio_goal(f"{rows:,} rows: openpyxl engine within 1.15x of the bare read_only loop", summaries,
                       "promptgen converter, openpyxl", "bare openpyxl read_only loop", 1.15)
        )
        goals.append(
            ratio_goal(f"{rows:,} rows: calamine engine within 1.3x of the bare calamine loop", summaries,
                       "promptgen converter, calamine", "bare python-calamine loop", 1.3)
        )
        if rows >= 1_000_000:
            goals.append(
                memory_goal(f"{rows:,} rows: openpyxl engine peak memory under 150 MiB", summaries,
                            "promptgen converter, openpyxl", 150)
            )
        for leftover in out.iterdir():
            leftover.unlink()

    print(f"JSON Lines file of {options.records} records", file=sys.stderr, flush=True)
    records = fixtures.cached(
        data, f"conversations-{options.records}-v{fixtures.GENERATOR_VERSION}.jsonl",
        lambda path: fixtures.write_conversations(path, options.records),
    )
    subjects = split_subjects(records, scripts, out)
    summaries = measure_all(subjects, options.repeat, data)
    size = records.stat().st_size / 1e6
    report += [f"## Splitting: {options.records:,} records, {size:.0f} MB of JSON Lines", ""]
    report += table(subjects, summaries, {"promptgen splitter": "shuf", "naive json.loads + shuffle + dump": "shuf"}) + [""]
    results["split"] = {name: [asdict(run) for run in summary.runs] for name, summary in summaries.items()}
    goals.append(ratio_goal(f"{options.records:,} records: splitter within 2x of shuf", summaries, "promptgen splitter", "shuf", 2.0))
    goals.append(memory_goal(f"{options.records:,} records: splitter peak memory under 300 MiB", summaries, "promptgen splitter", 300))
    for leftover in out.iterdir():
        leftover.unlink()

    print("promptgen --help", file=sys.stderr, flush=True)
    help_subjects = [Subject("python -m promptgen --help", (sys.executable, "-m", "promptgen", "--help"))]
    summaries = measure_all(help_subjects, max(10, options.repeat), data)
    report += ["## Start-up", ""] + table(help_subjects, summaries, {}) + [""]
    results["startup"] = {name: [asdict(run) for run in summary.runs] for name, summary in summaries.items()}
    help_summary = summaries["python -m promptgen --help"]
    goals.append(
        Goal("promptgen --help under 0.3 s", f"{help_summary.seconds:.2f} s", help_summary.seconds < 0.3)
        if help_summary.ok
        else Goal("promptgen --help under 0.3 s", "not measured", None)
    )

    report += ["## Goals", "", "| goal | measured | met |", "| --- | ---: | --- |"]
    for goal in goals:
        met = "not measured"
        if goal.met is not None:
            met = "yes" if goal.met else "no"
        report.append(f"| {goal.text} | {goal.measured} | {met} |")
    print("\n".join(report))
    if options.json is not None:
        options.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
