"""PNG charts of a load run (matplotlib, from the `sim` extra): per-step timing distributions,
throughput over time per lane, and resident memory over time."""
from __future__ import annotations

from pathlib import Path

WINDOW = 20      # travellers per point of the throughput curve


def write_charts(report: dict, runs, out: Path) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")          # files only, never a window
    from matplotlib import pyplot as plt
    written = []
    for name, draw in (("load-steps.png", _steps), ("load-throughput.png", _throughput), ("load-rss.png", _rss)):
        figure, axes = plt.subplots(figsize=(8, 4.5))
        draw(axes, report, runs)
        figure.tight_layout()
        figure.savefig(out / name, dpi=100)
        plt.close(figure)
        written.append(out / name)
    return written


def _steps(axes, report: dict, runs) -> None:
    from simulator.load_report import step_values
    steps = step_values([o for run in runs for o in run.outcomes])
    names = list(steps)
    axes.boxplot([steps[n] for n in names], whis=(1, 99), showfliers=True)
    axes.set_xticks(range(1, len(names) + 1), names)
    axes.axhline(report["targets"]["machine_median_s"]["target"], linestyle="--", linewidth=0.8,
                 label="machine time target (median)")
    axes.axhline(report["targets"]["cycle_median_s"]["target"], linestyle=":", linewidth=0.8,
                 label="lane cycle target")
    axes.set_ylabel("seconds (whiskers p1-p99)")
    axes.set_title("Per-step time per traveller")
    axes.legend(fontsize="small")


def _throughput(axes, report: dict, runs) -> None:
    for run in runs:
        cycles = [o.cycle_s for o in run.outcomes if o.cycle_s]
        at, points, clock = [], [], 0.0
        for index, cycle in enumerate(cycles):
            clock += cycle
            window = cycles[max(0, index - WINDOW + 1):index + 1]
            at.append(clock / 60.0)
            points.append(3600.0 * len(window) / sum(window))
        axes.plot(at, points, label=f"lane {run.lane}")
    axes.set_xlabel("modelled lane time (minutes)")
    axes.set_ylabel(f"travellers per hour (last {WINDOW})")
    axes.set_title("Lane throughput over time")
    axes.legend(fontsize="small")


def _rss(axes, report: dict, runs) -> None:
    groups = report["memory"].get("groups", [])
    samples = report["memory"].get("samples", [])
    axes.plot([s[2] for s in samples], [s[1] for s in samples], label="all group processes" if groups else None)
    for group in groups:            # a many-lane run: each group process on the same axis (its own travellers)
        own = group.get("samples", [])
        axes.plot([s[2] for s in own], [s[1] for s in own], linewidth=0.8,
                  label=f"group {group['group']} (lanes {', '.join(map(str, group['lanes']))})")
    axes.set_xlabel("travellers done (all lanes; a group's line: its own)")
    axes.set_ylabel("resident memory (MB)")
    axes.set_title("Memory of the appliance process(es) over the run")
    if groups:
        axes.legend(fontsize="small")
