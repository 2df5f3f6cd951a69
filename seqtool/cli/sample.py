"""seqtool sample: generate text from a language model (neural or n-gram)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .options import JsonOpt, ModelOpt, SeedOpt, examples

COMMAND = dict(
    help="Generate text from a trained language model (neural or n-gram).\n\n"
    "Tokens are written to stdout as they are generated: words joined by spaces with <EOS> as a line "
    "break, characters verbatim. --temp 0 (or --greedy, or --top-k 1) always picks the most likely token. "
    "The same --seed gives the same text. Neural models run on the CPU with a numpy engine by default "
    "(fastest start); --device auto|cuda uses torch. --model also takes a train-lm checkpoint (its "
    "checkpoint.pt, its run folder, or the name of a run not yet published): the run's current weights. "
    "--json writes one record per sample: text, tokens, logprob (natural log of the model's probability of "
    "the generated tokens, at temperature 1), model and seed (drawn and reported when not given).",
    epilog=examples("seqtool sample --temp 0.8", "seqtool sample --model shakespeare --prime 'ROMEO:' --length 200 --seed 1", "seqtool sample --model ptb --prime 'the company' --until-eos --num 5 --top-p 0.9 --json", "seqtool sample --model ~/.local/share/seqtool/checkpoints/ptb --num 3 -o samples.txt"),
)


def sample(
    model: ModelOpt = None,
    temp: Annotated[float, typer.Option("--temp", "-t", help="Temperature: < 1 is more conservative, "
                                        "> 1 more random, 0 = greedy.")] = 1.0,
    top_k: Annotated[Optional[int], typer.Option("--top-k", help="Sample among the k most likely tokens.")] = None,
    top_p: Annotated[Optional[float], typer.Option("--top-p", help="Sample from the smallest set of tokens "
                                                   "whose probability reaches p, in (0, 1].")] = None,
    greedy: Annotated[bool, typer.Option("--greedy", help="Always take the most likely token.")] = False,
    prime: Annotated[Optional[str], typer.Option("--prime", "-p", help="Text to start from (printed, then "
                                                 "continued).")] = None,
    length: Annotated[Optional[int], typer.Option("--length", "-n", help="Tokens to generate per sample "
                                                  "[default: 100 words or 500 characters].")] = None,
    num: Annotated[int, typer.Option("--num", help="Number of samples.")] = 1,
    until_eos: Annotated[bool, typer.Option("--until-eos", help="Stop each sample at the end of the line "
                                            "(<EOS> or newline); --length stays the cap.")] = False,
    seed: SeedOpt = None,
    device: Annotated[str, typer.Option("--device", help="cpu (numpy engine, fast start), auto or cuda[:N] "
                                        "(torch).")] = "cpu",
    as_json: JsonOpt = False,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Write the samples to this file "
                                                  "(atomically, when all are made) instead of stdout.")] = None,
    threads: Annotated[Optional[str], typer.Option("--threads", help="CPU threads (numpy's BLAS, torch): a "
                                                   "number, or auto (one per idle core). One-token steps are "
                                                   "too small to share, so 1 is fastest for the numpy engine.",
                                                   show_default="1, or $SEQTOOL_THREADS")] = None,
) -> None:
    import sys

    import numpy as np

    from ..core.errors import UsageError
    from ..core.sampling import SamplingOptions

    options = SamplingOptions(temperature=temp, top_k=top_k, top_p=top_p, greedy=greedy)
    if length is not None and length < 0:
        raise UsageError(f"--length must be >= 0 (got {length})")
    if num < 1:
        raise UsageError(f"--num must be at least 1 (got {num})")
    if output is not None:
        from ..core.outputs import check_output_path

        check_output_path(output, option="--output")
    import os

    from ..core.threads import ENV, apply_blas_threads, apply_threads

    spec = threads if threads is not None else os.environ.get(ENV, "1")
    if device != "cpu":
        from ..core.device import resolve_device

        device = resolve_device(device)
        apply_threads(spec)
    apply_blas_threads(spec)
    from ..lm.generate import default_length, open_generator, sample_records, sample_text

    gen = open_generator(model, device=device)
    if length is None:
        length = default_length(gen.level)
    if seed is None and as_json:  # a record names the seed that reproduces it
        seed = int.from_bytes(os.urandom(4), "little")
    rng = np.random.default_rng(seed)
    kw = dict(prime=prime, length=length, num=num, options=options, rng=rng, until_eos=until_eos)
    if as_json:
        import json

        pieces = (json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in sample_records(gen, seed=seed, **kw))
    else:
        pieces = sample_text(gen, **kw)
    if output is not None:
        from ..core.atomic import atomic_write

        with atomic_write(output) as fh:  # a failure or Ctrl-C leaves an existing file as it was
            for piece in pieces:
                fh.write(piece)
        return
    out = sys.stdout
    # A closed pipe (`seqtool sample | head -1`) is handled by the CLI root: exit 0, quietly.
    for piece in pieces:
        out.write(piece)
        out.flush()
