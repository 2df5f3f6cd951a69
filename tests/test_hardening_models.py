"""Hostile and broken models: each is refused with one clear line, before
anything large is allocated, and nothing in a model file is ever executed."""

from __future__ import annotations

import json
import os
import pickle
import struct

import pytest

from seqtool.core.store import ModelStore

# model name -> a command that loads it
LOADERS = {
    "ngram-fixture": ["ngram", "score", "ngram-fixture", "-"],
    "lm-fixture": ["sample", "--model", "lm-fixture", "--length", "3", "--seed", "1"],
    "clf-fixture": ["classify", "predict", "--model", "clf-fixture", "-"],
    "vec-fixture": ["embed", "neighbors", "vec-fixture", "cat"],
}
TORCH_LOADERS = {
    "lm-fixture": ["train-lm", "--eval", "-", "--model", "lm-fixture", "--device", "cpu"],
}


def model_dir(home, name):
    return ModelStore(home).open(name, ("lm", "ngram", "classifier", "vectors")).path


def tensor_file(path):
    files = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.npy"))
    assert files, f"no tensor file in {path}"
    return files[0]


def run(cli, argv):
    return cli(*argv, input="the cat sat\n")


def assert_refused(result, *needles):
    assert result.exit_code in (1, 2), (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqtool: error:"), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("name", list(LOADERS))
def test_fixture_models_load(cli, home_with_models, name):
    result = run(cli, LOADERS[name])
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("name", list(LOADERS))
@pytest.mark.parametrize("damage", ["truncate", "bitflip-header", "empty"])
def test_damaged_weights(cli, home_with_models, name, damage):
    path = tensor_file(model_dir(home_with_models, name))
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "bitflip-header":
        for i in range(9, min(60, len(data))):
            data[i] ^= 0x5A
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    assert_refused(run(cli, LOADERS[name]), name)


@pytest.mark.parametrize("name", list(LOADERS))
def test_wrong_kind(cli, home_with_models, name):
    cfg_path = model_dir(home_with_models, name) / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["kind"] = "vectors" if cfg["kind"] != "vectors" else "lm"
    cfg_path.write_text(json.dumps(cfg))
    assert_refused(run(cli, LOADERS[name]), name)


@pytest.mark.parametrize("name", list(LOADERS))
def test_future_format_version(cli, home_with_models, name):
    cfg_path = model_dir(home_with_models, name) / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["format_version"] = 2
    cfg_path.write_text(json.dumps(cfg))
    assert_refused(run(cli, LOADERS[name]), "format version 2")


@pytest.mark.parametrize("name", list(LOADERS))
def test_planted_pickle_is_never_unpickled(cli, home_with_models, tmp_path, name):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tensor_file(model_dir(home_with_models, name))
    path.write_bytes(pickle.dumps(Exploit()))
    for extra in model_dir(home_with_models, name).glob("*.pt"):
        extra.write_bytes(pickle.dumps(Exploit()))
    assert_refused(run(cli, LOADERS[name]), name)
    assert not marker.exists()


def test_header_claiming_terabytes(cli, home_with_models):
    for name in ("lm-fixture", "ngram-fixture", "clf-fixture"):
        path = tensor_file(model_dir(home_with_models, name))
        header = json.dumps({"w": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}}).encode()
        path.write_bytes(struct.pack("<Q", len(header)) + header)
        assert_refused(run(cli, LOADERS[name]), name)


@pytest.mark.parametrize("field,value", [("vocab_size", 10**12), ("hidden", 10**9), ("emb", 10**9)])
def test_absurd_sizes_in_config_are_refused_before_allocating(cli, home_with_models, field, value):
    cfg_path = model_dir(home_with_models, "lm-fixture") / "config.json"
    cfg = json.loads(cfg_path.read_text())
    assert field in cfg["config"], sorted(cfg["config"])
    cfg["config"][field] = value
    cfg_path.write_text(json.dumps(cfg))
    for argv in (LOADERS["lm-fixture"], TORCH_LOADERS["lm-fixture"]):
        assert_refused(run(cli, argv), "lm-fixture")


@pytest.mark.parametrize("field,value", [("vocab_size", 10**12), ("hidden", 10**9), ("num_classes", 10**10)])
def test_absurd_sizes_in_classifier_config(cli, home_with_models, field, value):
    cfg_path = model_dir(home_with_models, "clf-fixture") / "config.json"
    cfg = json.loads(cfg_path.read_text())
    assert field in cfg["config"]["model"]
    cfg["config"]["model"][field] = value
    cfg_path.write_text(json.dumps(cfg))
    assert_refused(run(cli, LOADERS["clf-fixture"]), "clf-fixture")


def test_arpa_header_claiming_a_trillion_ngrams(cli, tmp_path):
    arpa = tmp_path / "huge.arpa"
    arpa.write_text("\\data\\\nngram 1=1000000000000\nngram 2=1000000000000\n\n\\1-grams:\n-1.0\t<s>\t-0.5\n")
    result = cli("ngram", "score", str(arpa), "-", input="a b\n")
    assert_refused(result, "huge.arpa")


def test_symlinked_model_out_of_the_store(cli, home_with_models, tmp_path):
    outside = tmp_path / "outside"
    import shutil

    shutil.copytree(model_dir(home_with_models, "lm-fixture"), outside)
    os.symlink(outside, home_with_models / "models" / "evil")
    assert_refused(cli("sample", "--model", "evil", "--length", "2"), "outside the model store")


@pytest.mark.parametrize("name", ["../../x", "a/../../b", "/etc/passwd"])
def test_traversal_names(cli, home_with_models, name):
    for argv in (["sample", "--model", name], ["classify", "predict", "--model", name, "-"],
                 ["models", "show", name]):
        result = cli(*argv, input="x\n")
        assert result.exit_code == 2 and "invalid model name" in result.stderr, (argv, result.stderr)


def test_loading_a_classifier_does_not_pull_in_torch_dynamo(home_with_models):
    # The meta-device shape check once imported torch._dynamo (1.8 s of every predict's start-up).
    import subprocess
    import sys

    code = ("import sys; from seqtool.classify.store import load; load('clf-fixture'); "
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
