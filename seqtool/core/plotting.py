"""What every plot of seqtool shares (train-lm --plot, embed plot): the format follows the
file's suffix, and only the formats this matplotlib can write are accepted, before any work."""

from __future__ import annotations

from .errors import UsageError

PLOT_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg")


def check_plot_available(option: str = "--plot") -> None:
    """Fail before the work, not after it, when a plot cannot be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError(f"{option} needs matplotlib: pip install 'seqtool[plot]'") from None


def plot_suffixes(option: str = "--plot") -> tuple[str, ...]:
    """The suffixes a plot may have: what this matplotlib can write (jpg needs Pillow)."""
    check_plot_available(option)
    from matplotlib.figure import Figure

    supported = Figure().canvas.get_supported_filetypes()
    return tuple("." + f for f in PLOT_FORMATS if f in supported)


def format_of(path: str) -> str:
    """The matplotlib format name for a file: its suffix ('.jpeg' -> 'jpeg')."""
    from pathlib import Path

    return Path(path).suffix.lower().lstrip(".")
