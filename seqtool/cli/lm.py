"""seqtool train-lm: train a recurrent language model (or --eval one on a file)."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from .options import DeviceOpt, EncodingOpt, ErrorsOpt, JsonOpt, NameOpt, SeedOpt, check_errors_mode

COMMAND = dict(
    help="Train an RNN/LSTM/GRU language model on text (or measure a trained one with --eval).\n\n"
    "Truncated BPTT over the corpus cut into --batch-size columns, gradient clipping, lr annealing on a "
    "validation plateau, early stopping; the best model is kept. Word level adds <EOS> at each line end; "
    "char level keeps newlines. Without --valid the last 5% of the corpus is held out. The model and a "
    "checkpoint are saved at every epoch end and on Ctrl-C; --resume continues exactly where it stopped. "
    "Under torchrun, DistributedDataParallel is used (only rank 0 writes).\n\n"
    "Presets (each flag can be overridden): ptb-small = --level word --cell lstm --layers 2 --emb 200 "
    "--hidden 200 --dropout 0.2 --tie-weights --bptt 35 --batch-size 20 --epochs 40 --optimizer sgd "
    "--lr 20 --clip 0.25.",
    epilog="Examples:\n\n  seqtool train-lm corpus.txt --cell gru\n\n"
    "  seqtool train-lm ptb.train.txt --valid ptb.valid.txt --preset ptb-small --max-time 60m\n\n"
    "  seqtool train-lm book.txt --level char --cell gru --layers 1 --hidden 256 --max-time 10m --name book\n\n"
    "  seqtool train-lm book.txt --level char --name book --resume\n\n"
    "  seqtool train-lm --eval ptb.test.txt --model ptb.train",
    no_args_is_help=True,
)

_G = "Model"
_T = "Training"


def train_lm(
    corpus: Annotated[Optional[List[str]], typer.Argument(help="Training text: files, directories, globs or '-'.",
                                                          show_default=False)] = None,
    valid: Annotated[Optional[str], typer.Option("--valid", help="Validation text (default: hold out the "
                                                 "last 5% of the corpus).", rich_help_panel=_T)] = None,
    test: Annotated[Optional[str], typer.Option("--test", help="Test text: its perplexity under the best "
                                                "model is reported at the end.", rich_help_panel=_T)] = None,
    cell: Annotated[Optional[str], typer.Option("--cell", help="rnn, rnn-relu, lstm or gru \\[default: lstm].",
                                                rich_help_panel=_G)] = None,
    layers: Annotated[Optional[int], typer.Option("--layers", help="Stacked RNN layers \\[default: 2].",
                                                  rich_help_panel=_G)] = None,
    hidden: Annotated[Optional[int], typer.Option("--hidden", help="Hidden units per layer \\[default: 200].",
                                                  rich_help_panel=_G)] = None,
    emb: Annotated[Optional[int], typer.Option("--emb", help="Embedding size \\[default: 200, or the "
                                               "dimension of --embeddings].", rich_help_panel=_G)] = None,
    dropout: Annotated[Optional[float], typer.Option("--dropout", help="Dropout on embeddings, between "
                                                     "layers and before the softmax \\[default: 0.2].",
                                                     rich_help_panel=_G)] = None,
    tie: Annotated[Optional[bool], typer.Option("--tie-weights/--no-tie-weights", help="Share the embedding "
                                                "and softmax weights \\[default: when --emb equals --hidden].",
                                                show_default=False, rich_help_panel=_G)] = None,
    level: Annotated[Optional[str], typer.Option("--level", help="word or char \\[default: word].",
                                                 rich_help_panel=_G)] = None,
    bptt: Annotated[Optional[int], typer.Option("--bptt", help="Tokens per truncated-BPTT window "
                                                "\\[default: 35].", rich_help_panel=_T)] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Parallel columns of the corpus "
                                                      "\\[default: 20].", rich_help_panel=_T)] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", help="Maximum epochs \\[default: 20].",
                                                  rich_help_panel=_T)] = None,
    max_time: Annotated[Optional[str], typer.Option("--max-time", help="Stop after this long (90s, 10m, "
                                                    "1h30m), keeping the best model.", rich_help_panel=_T)] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Learning rate \\[default: 20 for sgd, 0.002 for "
                                                "adam/adamw]; divided by 4 (sgd) or 2 on a validation plateau.",
                                                rich_help_panel=_T)] = None,
    optimizer: Annotated[Optional[str], typer.Option("--optimizer", help="sgd, adam or adamw "
                                                     "\\[default: adam].", rich_help_panel=_T)] = None,
    clip: Annotated[Optional[float], typer.Option("--clip", help="Gradient norm clipping \\[default: 0.25 "
                                                  "for sgd, 1 otherwise; 0 = off].", rich_help_panel=_T)] = None,
    patience: Annotated[Optional[int], typer.Option("--patience", help="Stop after this many epochs without "
                                                    "validation improvement \\[default: 3].",
                                                    rich_help_panel=_T)] = None,
    max_vocab: Annotated[Optional[int], typer.Option("--max-vocab", help="Keep the N most frequent tokens; "
                                                     "the rest become <UNK>.", rich_help_panel=_G)] = None,
    min_freq: Annotated[Optional[int], typer.Option("--min-freq", help="Tokens seen fewer times become <UNK> "
                                                    "\\[default: 1].", rich_help_panel=_G)] = None,
    embeddings: Annotated[Optional[str], typer.Option("--embeddings", help="Initialise the embedding from "
                                                      "word vectors (a file or stored vectors).",
                                                      rich_help_panel=_G)] = None,
    freeze: Annotated[bool, typer.Option("--freeze", help="Keep the --embeddings fixed.",
                                         rich_help_panel=_G)] = False,
    preset: Annotated[Optional[str], typer.Option("--preset", help="A tested recipe: ptb-small (flags "
                                                  "above).", rich_help_panel=_T)] = None,
    seed: SeedOpt = None,
    device: DeviceOpt = "auto",
    name: NameOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run saved under --name (its recipe "
                                         "is kept; --epochs/--max-time may change).")] = False,
    plot: Annotated[Optional[str], typer.Option("--plot", help="Also draw train/valid perplexity per epoch "
                                                "into this PNG (needs matplotlib: seqtool\\[plot]).")] = None,
    eval_file: Annotated[Optional[str], typer.Option("--eval", help="Do not train: print the perplexity of "
                                                     "--model on this file.", rich_help_panel="Evaluation")] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="With --eval: the model (default: the "
                                                 "last trained).", rich_help_panel="Evaluation")] = None,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", hidden=True)] = None,
    json_out: JsonOpt = False,
    encoding: EncodingOpt = "utf-8",
    errors: ErrorsOpt = "strict",
) -> None:
    from ..core import console
    from ..core.errors import UsageError

    check_errors_mode(errors)
    if eval_file is not None:
        if corpus:
            raise UsageError("--eval takes no CORPUS (give the text to measure as --eval FILE)")
        from ..lm.train import evaluate_file

        found = evaluate_file(model, [eval_file], device=device, encoding=encoding, errors=errors)
        if json_out:
            console.emit_json(found)
        else:
            console.emit(f"{eval_file}\t{found['tokens']}\t{found['perplexity']:.2f}")
        return
    if model is not None:
        raise UsageError("--model is only used with --eval (name the model to train with --name)")
    if not corpus and not resume:
        raise UsageError("give at least one CORPUS file to train on")
    from ..lm.options import resolve_options
    from ..training.runtime import parse_duration

    given = dict(corpus=list(corpus or []), valid=valid, test=test, cell=cell, layers=layers, hidden=hidden,
                 emb=emb, dropout=dropout, tie=tie, level=level, bptt=bptt, batch_size=batch_size,
                 epochs=epochs, max_time=parse_duration(max_time), lr=lr, optimizer=optimizer, clip=clip,
                 patience=patience, max_vocab=max_vocab, min_freq=min_freq, embeddings=embeddings,
                 freeze=freeze, seed=seed, device=device, name=name, resume=resume, plot=plot, json=json_out,
                 max_steps=max_steps, encoding=encoding, errors=errors)
    opts = resolve_options(given, preset)
    if resume and not corpus:
        opts.corpus = []
    from ..lm.train import train_lm as run

    if resume and not opts.corpus:
        from ..training.checkpoint import load_checkpoint
        from ..core.store import ModelStore
        from ..lm.options import default_model_name

        ckpt_name = opts.name or default_model_name([])
        saved = load_checkpoint(ModelStore().checkpoint_dir(ckpt_name, create=False))
        if saved is None:
            raise UsageError(f"--resume: no checkpoint for model '{ckpt_name}' (give --name)")
        opts.corpus = list(saved["options"]["corpus"])
        opts.name = ckpt_name
    result = run(opts)
    if not result.is_main:
        return
    from ..training.report import notice

    summary = {"event": "done", "model": result.name, "status": result.status, "epochs": result.epochs,
               "valid_ppl": None if result.best_valid_ppl is None else round(result.best_valid_ppl, 3),
               "test_ppl": result.test_ppl}
    if json_out:
        console.emit_json(summary)
    else:
        text = f"saved model '{result.name}' ({result.status}, {result.epochs:g} epochs"
        if summary["valid_ppl"] is not None:
            text += f", best valid ppl {summary['valid_ppl']:.2f}"
        if result.test_ppl is not None:
            text += f", test ppl {result.test_ppl:.2f}"
        notice(text + ")")
