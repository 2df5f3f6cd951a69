"""One options mechanism for every command (torch-free: --help stays fast; in core so the
non-neural packages, ngram, vectors and summarize, declare their options the same way).

A command's options are one dataclass; each field is declared with `option(...)`, the
single place of its default, help text, flag, validation and role on --resume:

    epochs: int = option(20, "Maximum epochs.", minimum=1, role=EXTEND, panel="Training")

seqtool.cli.options.with_options derives the Typer parameters from the fields (so a
default shows in --help because it is the default); `validate_fields` checks the minimums
and choices; `resume_options` takes the recipe from a checkpoint.

Roles on --resume: RECIPE (the default) is the stored run's; given again with another value
it is refused. EXTEND (epochs, patience) keeps the stored value unless given. RUN
(device, --json, --plot, --max-time, ...) belongs to each invocation.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, Field, field, fields
from typing import Any

from .errors import UsageError

RECIPE, EXTEND, RUN = "recipe", "extend", "run"


def option(default: Any = MISSING, help: str = "", *, flag: str | None = None, short: str | None = None,
           panel: str | None = None, role: str = RECIPE, default_text: str | None = None,
           minimum: float | None = None, maximum: float | None = None, above: float | None = None, below: float | None = None,
           choices: tuple | None = None, parse: str | None = None, hidden: bool = False, cli: bool = True,
           default_factory: Any = MISSING) -> Any:
    """A dataclass field with what the CLI and the checks need to know about it.

    flag: '--batch-size' (default: from the name), or '--x/--no-x' for an on/off pair;
    default_text: what --help says when the default is worked out later (None fields);
    minimum / maximum / above / below / choices: the checks of validate_fields;
    parse: 'duration' for values like 90s or 1h30m, 'ints' for lists like '0 0 1' (the command line
    gives text; the dataclass parses it); cli=False: not a command-line option."""
    meta = dict(help=help, flag=flag, short=short, panel=panel, role=role, default_text=default_text,
                minimum=minimum, maximum=maximum, above=above, below=below, choices=choices, parse=parse, hidden=hidden, cli=cli)
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def flag_of(f: Field) -> str:
    """The option's main flag: '--batch-size', '--tie-weights' for '--tie-weights/--no-tie-weights'."""
    flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
    return flag.split("/")[0]


def validate_fields(opts: Any) -> Any:
    """Check each field's minimum, bounds and choices (None means 'not set' and passes);
    a duration field given as text ('10m', from the command line or the API) becomes seconds."""
    for f in fields(opts):
        meta, value = f.metadata, getattr(opts, f.name)
        if value is None or not meta:
            continue
        if meta.get("parse") == "duration" and isinstance(value, str):
            value = parse_duration(value)
            setattr(opts, f.name, value)
        name = flag_of(f)
        if meta.get("choices") and value not in meta["choices"]:
            raise UsageError(f"unknown {name} {value!r} (choose {', '.join(meta['choices'])})")
        if meta.get("minimum") is not None and value < meta["minimum"]:
            raise UsageError(f"{name} must be at least {meta['minimum']:g} (got {value:g})")
        if meta.get("maximum") is not None and value > meta["maximum"]:
            raise UsageError(f"{name} must be at most {meta['maximum']:g} (got {value:g})")
        if meta.get("above") is not None and not value > meta["above"]:
            raise UsageError(f"{name} must be above {meta['above']:g} (got {value:g})")
        if meta.get("below") is not None and not value < meta["below"]:
            raise UsageError(f"{name} must be below {meta['below']:g} (got {value:g})")
    return opts


def given_names(opts: Any, defaults: Any) -> set[str]:
    """For callers that cannot say what was given: the fields that differ from the defaults."""
    return {f.name for f in fields(opts) if getattr(opts, f.name) != getattr(defaults, f.name)}


def resume_options(saved: Any, given: Any, explicit: set[str]) -> Any:
    """The options of a resumed run: the stored recipe, the run-control options of this call.

    A recipe option in `explicit` with another value than the stored one is refused, in one
    line naming each, since silently training another recipe than the one asked for (or
    than the checkpoint's) is the one thing a resume must not do."""
    conflicts = []
    for f in fields(saved):
        role, value = f.metadata.get("role", RECIPE), getattr(given, f.name)
        if role == RUN or (role == EXTEND and f.name in explicit):
            setattr(saved, f.name, value)
        elif role == RECIPE and f.name in explicit and value != getattr(saved, f.name):
            conflicts.append(f"{flag_of(f)} {_shown(value)} (the run has {_shown(getattr(saved, f.name))})")
    if conflicts:
        raise UsageError(f"--resume continues the stored recipe; it cannot change {'; '.join(conflicts)}: "
                         f"drop the flag, or train afresh without --resume")
    return saved


def _shown(value: Any) -> str:
    return "the default" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|h|m|s)?")  # ms before m: "1ms" is not "1m" + "s"


def parse_duration(text: str | float | None) -> float | None:
    """'90s', '10m', '1h30m', '45' (seconds) -> seconds; None stays None."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        return float(text)
    pos, total = 0, 0.0
    text = text.strip().lower()
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        value, unit = float(match.group(1)), match.group(2) or "s"
        total += value * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise UsageError(f"invalid duration {text!r} (examples: 90s, 10m, 1h30m)")
    return total
