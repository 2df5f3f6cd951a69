"""seqtool embed neighbors / analogy / similarity / doesnt-match: the queries, asked on the
command line or, one per line, from a file or stdin (fastText's `nn` and `analogies` prompts;
the vectors loaded once, each answer written and flushed before the next line is read).
cli/embed.py registers these commands on the `embed` app."""

from __future__ import annotations

import sys
from typing import Annotated, List, Optional

import typer

from .options import JsonOpt, examples

VectorsArg = Annotated[str, typer.Argument(help="Stored vectors name or a vector file.", show_default=False)]
LimitOpt = Annotated[Optional[int], typer.Option("--limit", help="Load only the first N vectors "
                                                 "(the most frequent words in the usual orderings).")]
CaseOpt = Annotated[bool, typer.Option("--case-insensitive", "-i", help="Match a word in any capitalisation "
                                       "when its exact form is unknown (the most frequent form wins).")]
TopOpt = Annotated[int, typer.Option("--top", "-n", help="Number of answers.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Reading queries from a file or stdin: stop at the first "
                                         "line with an unknown word (exit code 1) instead of reporting it on "
                                         "stderr and going on.")]


# The examples of each command's --help (cli/embed.py registers the commands with them).
NEIGHBORS_EXAMPLES = examples("seqtool embed neighbors glove100 king queen --top 5", "seqtool embed neighbors glove100 paris --json",
                              "seqtool embed neighbors glove100 --positive king --positive woman --negative man",
                              "seqtool embed neighbors glove100 -p paris -p italy --negative france --cosmul",
                              "seqtool embed neighbors glove100 - --top 3", "printf 'king woman -man\\nparis\\n' | seqtool embed neighbors glove100 - --json")
ANALOGY_EXAMPLES = examples("seqtool embed analogy glove100 man king woman", "seqtool embed analogy glove100 paris france rome --top 3 --json",
                            "seqtool embed analogy glove100 triples.txt --method add --top 1", "echo 'man king woman' | seqtool embed analogy glove100 -")
SIMILARITY_EXAMPLES = examples("seqtool embed similarity glove100 cat dog", "seqtool embed similarity glove100 car automobile --json",
                               "seqtool embed similarity glove100 pairs.tsv", "printf 'cat dog\\ncar bus\\n' | seqtool embed similarity glove100 -")
DOESNT_MATCH_EXAMPLES = examples("seqtool embed doesnt-match glove100 breakfast cereal dinner lunch", "seqtool embed doesnt-match w2v red green blue car --json")


def _score(x: float) -> str:
    return f"{x:.6f}"


def _flush() -> None:
    if sys.stdout is not None:
        sys.stdout.flush()


def _finish(skipped: int, answered: int, what: str) -> None:
    """The closing line on stderr when lines were skipped (the skipped lines were named one by one)."""
    from ..core.console import note

    if skipped:
        note(f"{skipped} of {skipped + answered} {what} skipped (see the warnings above)")


def _stream(answers, write, what: str, origin: str = "<stdin>") -> None:
    """Write each answer as it comes; report each Skipped on stderr, named by its line."""
    from ..core.console import warn
    from ..vectors.batch import Skipped

    skipped = answered = 0
    for answer in answers:
        if isinstance(answer, Skipped):
            skipped += 1
            warn(f"{origin}: line {answer.line}: {answer.reason}")
        else:
            answered += 1
            write(answer)
        _flush()
    _finish(skipped, answered, what)


def _prompt_hint(path: str, what: str) -> None:
    """At a terminal, say once on stderr what to type (stdout stays data only)."""
    from ..core.console import note

    if path == "-" and sys.stdin is not None and sys.stdin.isatty():
        note(f"reading {what} from the terminal, one a line (Ctrl-D ends)")


def _check_input(path: str, usage: str) -> None:
    """One argument where words were expected is a file: a missing one is named with the usage."""
    import os

    from ..core.errors import InputError

    if path != "-" and not os.path.exists(path):
        raise InputError(f"{path}: no such file or directory (give {usage}, or a file of them, '-' for stdin)")


def _origin(path: str) -> str:
    from ..core.sources import Source

    return Source(path).name


def _from_lines(path: str, usage: str, hint: str, what: str, ask, write) -> None:
    """The queries of a file or of stdin ('-'), one a line, each answered as it is read:
    ask(lines, origin) is the vectors.batch stream, write(answer) prints one answer."""
    from ..vectors.batch import query_lines

    _check_input(path, usage)
    _prompt_hint(path, hint)
    origin = _origin(path)
    _stream(ask(query_lines(path), origin), write, what, origin)


def neighbors(
    vectors: VectorsArg,
    words: Annotated[Optional[List[str]], typer.Argument(help="Query words (each answered alone, unless "
                                                         "--positive/--negative make one combined query); "
                                                         "'-': one query per line of stdin.")] = None,
    positive: Annotated[Optional[List[str]], typer.Option("--positive", "-p", help="A word the answers are like "
                                                          "(repeatable; gensim's most_similar(positive=)).")] = None,
    negative: Annotated[Optional[List[str]], typer.Option("--negative", help="A word the answers are unlike "
                                                          "(repeatable; most_similar(negative=)).")] = None,
    cosmul: Annotated[bool, typer.Option("--cosmul", help="Rank a combined query by 3CosMul "
                                         "(gensim's most_similar_cosmul) instead of the mean vector.")] = False,
    top: TopOpt = 10,
    case_insensitive: CaseOpt = False,
    limit: LimitOpt = None,
    strict: StrictOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Nearest neighbours by cosine similarity (word TAB neighbour TAB score).

    Unknown words are reported on stderr and the exit code is 1; the others are answered. With
    --positive/--negative the words (WORDS count as positive) form one query, answered as gensim's
    most_similar (or most_similar_cosmul with --cosmul) answers it, labelled like `king+woman-man`.

    With WORDS '-', each line of stdin is one query, answered at once (fastText's `nn`): a word, or
    `king woman -man` (a leading '-' marks a negative word). A line with an unknown word is reported
    on stderr and skipped (--strict: stops with exit code 1). fastText vectors trained by seqtool
    answer a word missing from the vocabulary from its character n-grams."""
    from ..core.console import emit, emit_json, warn
    from ..core.errors import UsageError
    from ..vectors import api

    words = list(words or [])

    def write_combined(label: str, pos: list, neg: list, found: list) -> None:
        if as_json:
            emit_json({"positive": pos, "negative": neg, "method": "cosmul" if cosmul else "mean",
                       "neighbors": [{"word": m.word, "score": m.score} for m in found]})
        else:
            for m in found:
                emit(f"{label}\t{m.word}\t{_score(m.score)}")

    def write_single(word: str, found: list) -> None:
        if as_json:
            emit_json({"word": word, "neighbors": [{"word": m.word, "score": m.score} for m in found]})
        else:
            for m in found:
                emit(f"{word}\t{m.word}\t{_score(m.score)}")

    if "-" in words:
        from ..vectors import batch

        if words != ["-"] or positive or negative:
            raise UsageError("'-' reads the queries from stdin: give no other words, --positive or --negative")
        _from_lines("-", "query words", "queries ('king' or 'king woman -man')", "queries",
                    lambda lines, origin: batch.neighbors_stream(vectors, lines, top=top, cosmul=cosmul,
                                                                 case_insensitive=case_insensitive, limit=limit,
                                                                 strict=strict, origin=origin),
                    lambda a: write_combined(a.label, a.positive, a.negative, a.matches) if a.combined
                    else write_single(a.positive[0], a.matches))
        return
    if positive or negative or cosmul:
        pos, neg = words + list(positive or []), list(negative or [])
        if not pos:
            raise UsageError("a combined query needs at least one positive word (WORDS or --positive)")
        found = api.most_similar(vectors, pos, neg, cosmul=cosmul, top=top, case_insensitive=case_insensitive,
                                 limit=limit)
        write_combined("+".join(pos) + "".join(f"-{w}" for w in neg), pos, neg, found)
        return
    if not words:
        raise UsageError("give query words, '-' (queries from stdin), or --positive/--negative words")
    result = api.neighbors(vectors, words, top=top, case_insensitive=case_insensitive, limit=limit)
    answers = {a.word: a for a in result.answers}
    unknown = dict(result.missing)
    for word in words:
        if word in unknown:
            warn(unknown.pop(word))
        elif word in answers:
            write_single(word, answers[word].matches)
    if result.missing:
        raise typer.Exit(1)


def analogy(
    vectors: VectorsArg,
    a: Annotated[str, typer.Argument(help="A in 'A is to B as C is to ?'; alone: a file of 'a b c' lines, or "
                                   "'-' for stdin.", show_default=False)],
    b: Annotated[Optional[str], typer.Argument(help="B.", show_default=False)] = None,
    c: Annotated[Optional[str], typer.Argument(help="C.", show_default=False)] = None,
    method: Annotated[str, typer.Option("--method", help="add (3CosAdd: cos(x, b - a + c)), mul (3CosMul) "
                                        "or both.")] = "both",
    top: TopOpt = 5,
    case_insensitive: CaseOpt = False,
    limit: LimitOpt = None,
    strict: StrictOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Solve A : B :: C : ? (method TAB answer TAB score).

    Given one FILE (or '-') instead of three words, each line `a b c` is one question (a fourth
    field, as in questions-words.txt, and `: section` lines are ignored), answered at once as
    `a TAB b TAB c TAB method TAB answer TAB score` (fastText's `analogies` prompt). A line with
    an unknown word is reported on stderr and skipped (--strict: stops with exit code 1)."""
    from ..core.console import emit, emit_json
    from ..core.errors import UsageError
    from ..vectors import api

    def write(qa, qb, qc, answers, prefix: str) -> None:
        for m, matches in answers:
            if as_json:
                emit_json({"a": qa, "b": qb, "c": qc, "method": m,
                           "answers": [{"word": x.word, "score": x.score} for x in matches]})
            else:
                for x in matches:
                    emit(f"{prefix}{m}\t{x.word}\t{_score(x.score)}")

    if b is None or c is None:
        from ..vectors import batch

        if b is not None:
            raise UsageError("give three words A B C, or one file of 'a b c' lines ('-': stdin)")
        _from_lines(a, "three words A B C", "questions ('man king woman')", "questions",
                    lambda lines, origin: batch.analogy_stream(vectors, lines, method=method, top=top,
                                                               case_insensitive=case_insensitive, limit=limit,
                                                               strict=strict, origin=origin),
                    lambda q: write(q.a, q.b, q.c, q.answers, f"{q.a}\t{q.b}\t{q.c}\t"))
        return
    found = api.analogy(vectors, a, b, c, method=method, top=top, case_insensitive=case_insensitive, limit=limit)
    write(a, b, c, [(x.method, x.matches) for x in found], "")


def similarity(
    vectors: VectorsArg,
    word1: Annotated[str, typer.Argument(help="First word; alone: a file of pairs (one a line, 'a b' or "
                                         "'a TAB b ...'), or '-' for stdin.", show_default=False)],
    word2: Annotated[Optional[str], typer.Argument(help="Second word.", show_default=False)] = None,
    case_insensitive: CaseOpt = False,
    limit: LimitOpt = None,
    strict: StrictOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Cosine similarity of two words (word1 TAB word2 TAB similarity).

    Given one FILE (or '-') instead of two words, each line is a pair (a TAB-separated line is split
    on its tabs only, and fields after the second, as a wordsim file's gold score, are ignored; '#'
    lines are comments), answered at once. A line with an unknown word is reported on stderr and
    skipped (--strict: stops with exit code 1)."""
    from ..core.console import emit, emit_json
    from ..vectors import api

    def write(w1: str, w2: str, value: float) -> None:
        if as_json:
            emit_json({"word1": w1, "word2": w2, "similarity": value})
        else:
            emit(f"{w1}\t{w2}\t{_score(value)}")

    if word2 is None:
        from ..vectors import batch

        _from_lines(word1, "two words", "pairs ('cat dog')", "pairs",
                    lambda lines, origin: batch.similarity_stream(vectors, lines, case_insensitive=case_insensitive,
                                                                  limit=limit, strict=strict, origin=origin),
                    lambda p: write(p.word1, p.word2, p.similarity))
        return
    write(word1, word2, api.similarity(vectors, word1, word2, case_insensitive=case_insensitive, limit=limit))


def doesnt_match(
    vectors: VectorsArg,
    words: Annotated[List[str], typer.Argument(help="Two or more words.")],
    case_insensitive: CaseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The word that fits least with the others (furthest from their mean direction)."""
    from ..core.console import emit, emit_json
    from ..vectors import api

    ranking = api.doesnt_match(vectors, words, case_insensitive=case_insensitive)
    if as_json:
        emit_json({"odd": ranking[-1].word, "ranking": [{"word": m.word, "score": m.score} for m in ranking]})
    else:
        emit(ranking[-1].word)
