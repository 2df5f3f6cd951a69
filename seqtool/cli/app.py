"""The Typer root: global options, subcommand registration, and the one place
where library errors become exit codes and one-line messages."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from typing import Annotated, Any, Optional


def _interrupted_at_startup(signum: int, frame: Any) -> None:
    # Nothing has been read or written yet: stop with the one line, not an import traceback.
    os.write(2, b"seqtool: error: interrupted\n")
    os._exit(130)


def _started_as_the_cli() -> bool:
    first = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return os.path.basename(first) == "seqtool" or (
        os.path.basename(first) == "__main__.py" and os.path.basename(os.path.dirname(first)) == "seqtool")


if _started_as_the_cli():  # the slow imports below (Typer, rich) are inside the Ctrl-C promise too
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGINT, _interrupted_at_startup)
        signal.signal(signal.SIGTERM, _interrupted_at_startup)

import typer  # noqa: E402
from typer import exceptions as typer_exc  # noqa: E402
from typer._click import exceptions as click_exc  # noqa: E402
from typer.core import TyperGroup  # noqa: E402

from ..core.version import __version__  # noqa: E402
from ..core import console  # noqa: E402
from ..core.errors import OutputError, SeqtoolError  # noqa: E402
from .options import examples  # noqa: E402
from .coercion import install as _plain_coercion  # noqa: E402
from .process import (Interrupted, ReaderGone, forget_interrupt_in_eval, guard_standard_streams,  # noqa: E402
                      sigterm_as_interrupt, silence_stdout)

_plain_coercion()  # Typer's coercion, without importing Pydantic for plain values (cli/coercion.py)


GLOBAL_FLAGS = ("--quiet", "-q", "--debug")


def _hoist_global_flags(argv: list[str]) -> list[str]:
    """`seqtool train-lm c.txt -q` means `seqtool -q train-lm c.txt`: global flags are
    accepted after the subcommand too (up to a `--`), as users of git and pip expect."""
    end = argv.index("--") if "--" in argv else len(argv)
    head = [a for a in argv[:end] if a in GLOBAL_FLAGS]
    return head + [a for a in argv[:end] if a not in GLOBAL_FLAGS] + argv[end:]


def _accept_click_completion_names() -> None:
    # click documents _SEQTOOL_COMPLETE=bash_source; Typer's own completion says source_bash.
    var = "_SEQTOOL_COMPLETE"
    value = os.environ.get(var, "")
    shell, _, what = value.partition("_")
    if what == "source" and shell in ("bash", "zsh", "fish"):
        os.environ[var] = f"source_{shell}"


class SeqtoolGroup(TyperGroup):
    """Runs the CLI in non-standalone mode so errors are reported our way."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            raise Interrupted() from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None
        except BrokenPipeError:
            raise ReaderGone() from None
        except EOFError as exc:
            # Typer reads EOFError as "user aborted a prompt"; from library code it is a bug.
            raise RuntimeError(f"unexpected end of data ({exc})") from exc

    def main(self, args: Any = None, prog_name: Optional[str] = None, **extra: Any) -> Any:
        extra.pop("standalone_mode", None)
        argv = _hoist_global_flags(list(sys.argv[1:] if args is None else args))
        _accept_click_completion_names()
        debug = "--debug" in argv[: argv.index("--") if "--" in argv else len(argv)]
        console.configure(debug=debug)
        guard_standard_streams()
        try:
            with sigterm_as_interrupt():
                rv = super().main(args=argv, prog_name=prog_name or "seqtool", standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
            if code == 130:  # Typer's silent exit for an interrupt outside a command
                forget_interrupt_in_eval()
                console.error_line("interrupted")
        except click_exc.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help())  # the help is the answer: no empty "error:" line after it
            code = 2
        except click_exc.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            console.error_line(f"{exc.format_message()}{hint}")
            code = 2
        except typer_exc.Abort:
            console.error_line("interrupted")
            code = 130
        except click_exc.ClickException as exc:
            console.error_line(exc.format_message())
            code = exc.exit_code
        except SeqtoolError as exc:
            if console.is_debug():
                traceback.print_exc()
            console.error_line(exc.message)
            code = exc.exit_code
            if code == 130:
                forget_interrupt_in_eval()
            if isinstance(exc, OutputError):
                silence_stdout()
        except (KeyboardInterrupt, Interrupted):
            forget_interrupt_in_eval()
            console.error_line("interrupted")
            code = 130
        except (BrokenPipeError, ReaderGone):
            silence_stdout()
            code = 0
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if console.is_debug():
                raise
            console.error_line(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")
            code = 1
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            silence_stdout()
        except OSError as exc:  # /dev/full, an I/O error: the data did not arrive
            console.error_line(console.stdout_error(exc).message)
            silence_stdout()
            code = code or 1
        except ValueError:
            pass
        sys.exit(code)


app = typer.Typer(
    cls=SeqtoolGroup,
    name="seqtool",
    help="Sequence models and text tools for the shell: n-gram and neural language models, "
    "word vectors, TextRank summaries and text classifiers.\n\n"
    "Data goes to stdout, progress and messages to stderr; '-' reads stdin.",
    epilog=examples("seqtool train-lm corpus.txt --cell gru", "seqtool sample --temp 0.8", "cat docs/*.txt | seqtool summarize - -n 3", "seqtool ngram train corpus.txt -n 3 --name tri && seqtool ngram score tri test.txt"),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain click help: rich markup read "[default: 5]" or "seqtool[plot]" as tags and ate them
    # (issue 18 item 3), and its boxes are not text for a pipe.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"seqtool {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Hide progress, logs and warnings.")] = False,
) -> None:
    console.configure(debug=debug, quiet=quiet)


# The subcommands in the order of the root help: (name, module in seqtool.cli, its function
# for a command, or None for a Typer group held in module.app).
SUBCOMMANDS = (("ngram", "ngram", None), ("train-lm", "lm", "train_lm"), ("sample", "sample", "sample"),
               ("embed", "embed", None), ("summarize", "summarize", "summarize"),
               ("classify", "classify", None), ("models", "models", None))
_ROOT_EXITS = ("-h", "--help", "--version", "--install-completion", "--show-completion")
# Commands whose numpy work is small matrices (summarize: tens of sentences a document). BLAS
# threads only spin there: on the 2,225 BBC articles, --jobs 1 used 1.3 s more CPU and was no
# faster, --jobs 2 took 1.45 s instead of 0.97 s. Set before numpy loads; the user's own wins.
ONE_BLAS_THREAD = ("summarize",)
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _register(only: Optional[str] = None) -> None:
    """Add the subcommands to `app` (only: that one alone). Each module's import and Typer's
    reading of its signatures cost start-up time (summarize's options ~0.5 s): a run of
    `seqtool sample` pays for sample's alone."""
    from importlib import import_module

    for name, module_name, function in SUBCOMMANDS:
        if only is not None and name != only:
            continue
        module = import_module(f".{module_name}", __package__)
        if function is None:
            app.add_typer(module.app, name=name)
        else:
            app.command(name, **module.COMMAND)(getattr(module, function))


def invoked_subcommand(argv: list[str]) -> Optional[str]:
    """The subcommand an argv (without the program) runs; None where the root itself answers
    (no subcommand, --help, --version, completion) or the name is unknown: those need them all."""
    if os.environ.get("_SEQTOOL_COMPLETE"):
        return None
    names = {name for name, _, _ in SUBCOMMANDS}
    for arg in _hoist_global_flags(argv):
        if arg in _ROOT_EXITS or arg == "--":
            return None
        if not arg.startswith("-"):  # the root's options take no values: the first word is the command
            return arg if arg in names else None
    return None


if not _started_as_the_cli():  # a library user or a test drives `app` with any arguments
    _register()


def main() -> None:
    if not (app.registered_commands or app.registered_groups):  # started as the CLI: see _register
        command = invoked_subcommand(sys.argv[1:])
        if command in ONE_BLAS_THREAD and "numpy" not in sys.modules:
            for var in BLAS_THREAD_VARS:
                os.environ.setdefault(var, "1")
        _register(command)
    app()
