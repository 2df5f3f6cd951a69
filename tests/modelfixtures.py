"""Small models of every kind, trained once per test session through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WORDS = "the cat sat on the mat and the dog ate the bone while a bird sang".split()
TEXT_LINES = [" ".join(WORDS[i:] + WORDS[:i]) + " ." for i in range(len(WORDS))]
LABELLED = [("pos" if i % 2 else "neg") + "\t" + line for i, line in enumerate(TEXT_LINES)]
VECTORS = ["4 3"] + [f"{w} {i * 0.1:.1f} {1 - i * 0.1:.1f} 0.5" for i, w in enumerate(["cat", "dog", "mat", "bird"])]

TINY_LM = ["--epochs", "1", "--layers", "1", "--hidden", "8", "--emb", "8", "--bptt", "5", "--batch-size", "2",
           "--device", "cpu", "--seed", "1"]
TINY_CLF = ["--epochs", "1", "--hidden", "8", "--emb", "8", "--device", "cpu", "--seed", "1"]

# model name -> kind
FIXTURE_MODELS = {"ngram-fixture": "ngram", "lm-fixture": "lm", "clf-fixture": "classifier", "vec-fixture": "vectors"}


def build_fixture_home(home: Path) -> Path:
    corpus = home.parent / "fixture-corpus.txt"
    corpus.write_text("\n".join(TEXT_LINES * 3) + "\n")
    labelled = home.parent / "fixture-labelled.tsv"
    labelled.write_text("\n".join(LABELLED * 2) + "\n")
    vectors = home.parent / "fixture-vectors.txt"
    vectors.write_text("\n".join(VECTORS) + "\n")
    env = {**os.environ, "SEQTOOL_HOME": str(home), "OMP_NUM_THREADS": "1"}
    for argv in (["ngram", "train", corpus, "-n", "2", "--name", "ngram-fixture"],
                 ["train-lm", corpus, *TINY_LM, "--name", "lm-fixture"],
                 ["classify", "train", labelled, "--format", "tsv", *TINY_CLF, "--name", "clf-fixture"],
                 ["embed", "import", vectors, "--name", "vec-fixture"]):
        subprocess.run([sys.executable, "-m", "seqtool", *map(str, argv)], env=env, check=True, capture_output=True)
    return home
