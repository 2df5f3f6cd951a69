"""seqtool train-lm: train a recurrent language model (or --eval one on a file).

The training options and their --help come from seqtool.lm.options.TrainOptions."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from ..lm.options import TrainOptions, preset_help
from .options import Given, with_options, examples

COMMAND = dict(
    help="Train an RNN/LSTM/GRU language model on text (or measure a trained one with --eval).\n\n"
    "Truncated BPTT over the corpus cut into --batch-size columns, gradient clipping, lr annealing on a "
    "validation plateau, early stopping; the best model is kept. Word level adds <EOS> at each line end; "
    "char level keeps newlines. Without --valid the last 5% of the corpus is held out. The model and a "
    "checkpoint are saved at every epoch end and on Ctrl-C; --resume continues exactly where it stopped. "
    "A run that has not finished never replaces a finished model of the same name (see --publish-partial). "
    "Under torchrun, DistributedDataParallel is used (only rank 0 writes).\n\n"
    "Presets (each flag can be overridden): " + preset_help() + ".",
    epilog=examples("seqtool train-lm corpus.txt --cell gru", "seqtool train-lm ptb.train.txt --valid ptb.valid.txt --preset ptb-small --max-time 60m", "seqtool train-lm book.txt --level char --cell gru --layers 1 --hidden 256 --max-time 10m --name book", "seqtool train-lm book.txt --level char --name book --resume", "seqtool train-lm --eval ptb.test.txt --model ptb.train"),
    no_args_is_help=True,
)


@with_options(TrainOptions)
def train_lm(
    corpus: Annotated[Optional[List[str]], typer.Argument(help="Training text: files, directories, globs or '-'.",
                                                          show_default=False)] = None,
    eval_file: Annotated[Optional[str], typer.Option("--eval", help="Do not train: print the perplexity of "
                                                     "--model on this file.", rich_help_panel="Evaluation")] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="With --eval: the model (default: the "
                                                 "last trained).", rich_help_panel="Evaluation")] = None,
    given: Given = None,
) -> None:
    from ..core import console
    from ..core.errors import UsageError
    from ..lm import api

    v = given.values
    if eval_file is not None:
        if corpus:
            raise UsageError("--eval takes no CORPUS (give the text to measure as --eval FILE)")
        from ..core.threads import apply_threads

        apply_threads(v["threads"])
        found = api.evaluate_file(model, [eval_file], device=v["device"], encoding=v["encoding"], errors=v["errors"])
        if v["as_json"]:
            console.emit_json(found.to_dict())
        else:
            console.emit(f"{eval_file}\t{found.tokens}\t{found.perplexity:.2f}")
        return
    if model is not None:
        raise UsageError("--model is only used with --eval (name the model to train with --name)")
    if not corpus and not v["resume"]:
        raise UsageError("give at least one CORPUS file to train on")
    from ..lm.options import resolve_options
    from ..core.options import parse_duration

    typed = {**given.typed(), "corpus": list(corpus or []), "max_time": parse_duration(v["max_time"])}
    opts = resolve_options(typed, v["preset"])
    explicit = given.explicit | ({"corpus"} if corpus else set())
    result = api.train_lm(opts, explicit=explicit)
    if not result.is_main:
        return
    from ..training.report import notice, round_figures

    summary = round_figures({"event": "done", "model": result.name, "status": result.status,
                             "epochs": result.epochs, "valid_ppl": result.best_valid_ppl,
                             "test_ppl": result.test_ppl, "published": result.published})
    if v["as_json"]:
        console.emit_json(summary)
    else:
        text = f"{'saved' if result.published else 'trained'} model '{result.name}' ({result.status}, " \
               f"{result.epochs:g} epochs"
        if summary["valid_ppl"] is not None:
            text += f", best valid ppl {summary['valid_ppl']:.2f}"
        if result.test_ppl is not None:
            text += f", test ppl {result.test_ppl:.2f}"
        notice(text + ")")
