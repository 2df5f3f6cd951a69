"""Training reports shared by every trainer (language models, classifiers).

    report = TrainingReport(json_lines=json_flag, fields=LM_FIELDS, plot="curve.png")
    with report.run(epochs=40, batches_per_epoch=1327) as live:    # rich bars on a TTY stderr
        for epoch in ...:
            live.start_epoch(epoch, first_batch=0)
            for batch in ...:
                live.step(batch + 1, items=tokens, mean_loss=lambda: ...)  # cheap: throttled
            report.epoch_end({"epoch": epoch, "train_ppl": ..., "valid_ppl": ...})
    report.write_metrics(model_dir)            # metrics.jsonl (one record per epoch)
    report.write_plot()                        # the --plot file, when asked for

One summary line per epoch goes to stderr (or a JSON line to stdout with
--json); the progress bars show only on a terminal and cost nothing otherwise.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..core import console
from ..core.errors import UsageError
from ..core.plotting import check_plot_available
from ..core.atomic import atomic_write


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    fmt: str = "{:.2f}"


LM_FIELDS = (Field("train_ppl", "train ppl"), Field("valid_ppl", "valid ppl"), Field("lr", "lr", "{:.3g}"),
             Field("tokens_per_s", "tok/s", "{:,.0f}"), Field("elapsed_s", "time", "{}"))
# Curves drawn by write_plot: (key, legend) pairs; the classifier passes its own.
LM_CURVES = (("train_ppl", "train"), ("valid_ppl", "validation"))


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


def figure(value: float) -> float:
    """The one rounding of every reported figure: 5 significant digits (0.51667, 1504.1, 0.0002)."""
    if not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.5g}")


def round_figures(record: dict) -> dict:
    """`record` with its floats rounded by figure() (ints, bools, strings and None as they are)."""
    return {k: figure(v) if isinstance(v, float) else v for k, v in record.items()}




def notice(message: str) -> None:
    """A one-line note the user should see even when stderr is not a terminal."""
    if not console.is_quiet():
        print(f"seqtool: {message}", file=sys.stderr, flush=True)


class LiveProgress:
    """Batch-level progress: an epoch bar plus an overall bar (throttled updates)."""

    def __init__(self, bar: Any, epochs: int | None, batches: int, unit: str, interval: float = 0.2):
        self.bar, self.epochs, self.batches, self.unit, self.interval = bar, epochs, batches, unit, interval
        self.enabled = not isinstance(bar, console._NoProgress)
        self._epoch_task = None
        self._last = 0.0
        self._t0 = time.perf_counter()
        self._items = 0

    def start_epoch(self, epoch: int, first_batch: int = 0) -> None:
        if not self.enabled:
            return
        if self._epoch_task is not None:
            self.bar.remove_task(self._epoch_task)
        of = f"/{self.epochs}" if self.epochs else ""
        self._epoch_task = self.bar.add_task(f"epoch {epoch}{of}", total=self.batches, completed=first_batch,
                                             status="")
        self._t0, self._items = time.perf_counter(), 0

    def step(self, batch: int, *, items: int = 0, mean_loss: Any = None, force: bool = False,
             extra: Any = "") -> None:
        """Record one batch (`batch` is the 1-based count done in this epoch).

        `mean_loss` and `extra` may be zero-argument callables: they are only
        evaluated when the bar is redrawn (a GPU loss read forces a sync).
        """
        if not self.enabled:
            return
        self._items += items
        now = time.perf_counter()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        rate = self._items / max(now - self._t0, 1e-9)
        status = []
        mean = mean_loss() if callable(mean_loss) else mean_loss
        if mean is not None:
            status.append(f"loss {mean:.3f}")
            if self.unit == "tok":
                status.append(f"ppl {math.exp(min(mean, 50)):.1f}")
        status.append(f"{rate:,.0f} {self.unit}/s")
        extra = extra() if callable(extra) else extra
        if extra:
            status.append(extra)
        self.bar.update(self._epoch_task, completed=batch, status="  ".join(status))


class TrainingReport:
    def __init__(self, *, json_lines: bool = False, fields: Sequence[Field] = LM_FIELDS,
                 curves: Sequence[tuple[str, str]] = LM_CURVES, plot: str | None = None,
                 ylabel: str = "perplexity", unit: str = "tok", enabled: bool = True):
        self.json_lines, self.fields, self.curves, self.plot_path = json_lines, tuple(fields), tuple(curves), plot
        self.ylabel, self.unit, self.enabled = ylabel, unit, enabled
        self.records: list[dict] = []
        if plot and enabled:
            check_plot_available()

    @contextlib.contextmanager
    def run(self, *, epochs: int | None, batches_per_epoch: int) -> Iterator[LiveProgress]:
        if not self.enabled:
            bar_cm = contextlib.nullcontext(console._NoProgress())
        else:
            bar_cm = console.progress(transient=True)
        with bar_cm as bar:
            yield LiveProgress(bar, epochs, batches_per_epoch, self.unit)

    def epoch_end(self, record: dict, epochs: int | None = None, mark: str = "") -> None:
        """Keep the record (for metrics.jsonl and the plot) and print its summary line."""
        record = round_figures(record)
        self.records.append(record)
        if not self.enabled:
            return
        if self.json_lines:
            console.emit_json({"event": "epoch", **record})
            sys.stdout.flush()
        else:
            notice(self.summary_line(record, epochs, mark))

    def summary_line(self, record: dict, epochs: int | None = None, mark: str = "") -> str:
        of = f"/{epochs}" if epochs else ""
        parts = [f"epoch {record.get('epoch')}{of}"]
        for f in self.fields:
            value = record.get(f.key)
            if value is None:
                continue
            if f.key.endswith("elapsed_s"):
                value = format_duration(value)
            parts.append(f"{f.label} {f.fmt.format(value)}")
        return "  ".join(parts) + (f"  {mark}" if mark else "")

    def restore(self, records: list[dict]) -> None:
        """Continue the history of a resumed run."""
        self.records = [dict(r) for r in records]

    def metrics_text(self) -> str:
        return "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in self.records)

    def write_metrics(self, directory: str | Path, name: str = "metrics.jsonl") -> None:
        """Into a store draft (plain write) or any directory (atomic)."""
        with atomic_write(Path(directory) / name) as fh:
            fh.write(self.metrics_text())

    def write_plot(self, path: str | Path | None = None) -> None:
        path = path or self.plot_path
        if not path or not self.enabled or not self.records:
            return
        plot_curves(self.records, path, self.curves, self.ylabel)


def plot_curves(records: Sequence[dict], path: str | Path, curves: Sequence[tuple[str, str]],
                ylabel: str) -> None:
    """The curves per epoch (log scale for perplexities), written atomically in the format
    the suffix of `path` names (png, svg, pdf, jpg)."""
    check_plot_available()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot()
    for key, label in curves:
        points = [(r["epoch_float"] if "epoch_float" in r else r["epoch"], r[key])
                  for r in records if r.get(key) is not None]
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if ylabel == "perplexity":
        from matplotlib.ticker import ScalarFormatter

        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ScalarFormatter())  # 200, not 2x10^2
        ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".").lower() or "png")
    with atomic_write(path, "wb") as fh:
        fh.write(buffer.getvalue())
