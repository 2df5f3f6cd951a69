import json
import os
import struct

import numpy as np
import pytest

from seqtool.core.errors import ModelError, StoreError, UsageError
from seqtool.core.store import ModelStore
from seqtool.core.tensors import check_safetensors, load_tensors, save_tensors


def save_np_model(store, name, value, kind="ngram"):
    with store.writer(name, kind) as draft:
        save_tensors({"w": np.full((3, 4), value, dtype=np.float32)}, draft.path / "model.safetensors", framework="np")
        draft.config["config"] = {"value": value}
    return store.open(name, (kind,))


def load_value(store, name, kind="ngram"):
    info = store.open(name, (kind,))
    return float(load_tensors(info.file("model.safetensors"), "np", origin=name)["w"][0, 0])


def test_save_open_round_trip_and_default(seqtool_home):
    store = ModelStore()
    assert store.root == seqtool_home
    info = save_np_model(store, "m1", 1.5)
    assert info.config["kind"] == "ngram" and info.config["format_version"] == 1
    assert info.config["config"] == {"value": 1.5} and "seqtool_version" in info.config
    assert load_value(store, "m1") == 1.5
    assert store.default_name(["ngram"]) == "m1"
    assert store.open(None, ["ngram"]).name == "m1"


def test_latest_trained_of_several_kinds_is_the_default():
    store = ModelStore()
    save_np_model(store, "a", 1.0, kind="ngram")
    save_np_model(store, "b", 2.0, kind="lm")
    assert store.default_name(["lm", "ngram"]) == "b"
    save_np_model(store, "a", 3.0, kind="ngram")
    assert store.default_name(["lm", "ngram"]) == "a"


def test_crash_while_saving_keeps_the_previous_model():
    store = ModelStore()
    save_np_model(store, "m", 1.0)
    with pytest.raises(RuntimeError):
        with store.writer("m", "ngram") as draft:
            save_tensors({"w": np.zeros((3, 4), np.float32)}, draft.path / "model.safetensors", framework="np")
            raise RuntimeError("killed mid-save")
    assert load_value(store, "m") == 1.0
    assert not list(store.versions.glob("*.tmp"))


def test_a_killed_save_leaves_only_an_ignored_draft():
    store = ModelStore()
    save_np_model(store, "m", 1.0)
    (store.versions / "m.abc.tmp").mkdir()  # what SIGKILL mid-save leaves behind
    assert load_value(store, "m") == 1.0
    assert [i.name for i in store.list()] == ["m"]


def test_replacing_keeps_one_previous_version_for_readers():
    store = ModelStore()
    for v in (1.0, 2.0, 3.0):
        save_np_model(store, "m", v)
    assert load_value(store, "m") == 3.0
    assert len(store._versions_of("m")) == 2


def test_no_model_yet_gives_a_hint():
    with pytest.raises(ModelError, match="train one with"):
        ModelStore().open(None, ["lm"], hint="train one with seqtool train-lm CORPUS")


def test_wrong_kind_and_future_version_are_refused():
    store = ModelStore()
    info = save_np_model(store, "m", 1.0)
    with pytest.raises(ModelError, match="is a ngram model; this command needs a lm model"):
        store.open("m", ["lm"])
    cfg = json.loads(info.file("config.json").read_text())
    cfg["format_version"] = 99
    info.file("config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="format version 99 is not supported"):
        store.open("m", ["ngram"])
    info.file("config.json").write_text("{garbage")
    with pytest.raises(ModelError, match="config.json is corrupted"):
        store.open("m", ["ngram"])


@pytest.mark.parametrize("name", ["../../x", "a/b", ".hidden", "", "x" * 200])
def test_path_traversal_names_are_refused(name):
    with pytest.raises(UsageError, match="invalid model name"):
        ModelStore().open(name, ["lm"])


def test_symlink_out_of_the_store_is_refused(tmp_path):
    store = ModelStore()
    save_np_model(store, "m", 1.0)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "config.json").write_text(store.open("m", ["ngram"]).file("config.json").read_text())
    os.symlink(outside, store.models / "evil")
    with pytest.raises(ModelError, match="points outside the model store"):
        store.open("evil", ["ngram"])


def test_truncated_and_bitflipped_safetensors_are_refused_before_loading():
    store = ModelStore()
    info = save_np_model(store, "m", 1.0)
    path = info.file("model.safetensors")
    good = path.read_bytes()
    path.write_bytes(good[:-5])
    with pytest.raises(ModelError, match="truncated or corrupted"):
        load_tensors(path, "np", origin="m")
    path.write_bytes(good[:3])
    with pytest.raises(ModelError, match="truncated"):
        load_tensors(path, "np", origin="m")
    flipped = bytearray(good)
    flipped[10] ^= 0xFF
    path.write_bytes(bytes(flipped))
    with pytest.raises(ModelError):
        load_tensors(path, "np", origin="m")


def test_header_claiming_terabytes_is_refused(tmp_path):
    header = json.dumps({"w": {"dtype": "F32", "shape": [10**12, 10**3], "data_offsets": [0, 4 * 10**15]}}).encode()
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    with pytest.raises(ModelError, match="beyond the file"):
        check_safetensors(path)
    path.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(ModelError, match="header claims"):
        check_safetensors(path)


def test_pickle_planted_as_model_is_never_unpickled(tmp_path):
    import pickle

    class Boom:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelError):
        load_tensors(path, "np")
    assert not (tmp_path / "pwned").exists()


def test_lock_refuses_a_second_holder():
    store = ModelStore()
    with store.lock("m"):
        with pytest.raises(StoreError, match=f"in use by another seqtool process \\(pid {os.getpid()}\\)"):
            with store.lock("m"):
                pass
    with store.lock("m"):
        pass


def test_models_cli_list_show_rm(cli):
    store = ModelStore()
    save_np_model(store, "tri", 1.0)
    save_np_model(store, "bi", 2.0)
    result = cli("models", "list")
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [(r[0], r[1]) for r in rows] == [("bi*", "ngram"), ("tri", "ngram")]
    shown = cli("models", "show", "tri", "--json")
    assert json.loads(shown.stdout)["config"] == {"value": 1.0}
    assert cli("models", "rm", "tri", "--yes").exit_code == 0
    assert [line.split("\t")[0] for line in cli("models", "list").stdout.splitlines()] == ["bi*"]
    missing = cli("models", "show", "tri")
    assert missing.exit_code == 1 and missing.stderr.startswith("seqtool: error: model 'tri' not found")
