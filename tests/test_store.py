import json
import os
import struct
import sys

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
    with pytest.raises(ModelError, match="is an ngram model; this command needs an lm model"):
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
    # The default has its own column (issue 18.6): `cut -f1` gives names `models path` accepts.
    assert [(r[0], r[1], r[2]) for r in rows] == [("bi", "ngram", "default"), ("tri", "ngram", "")]
    shown = cli("models", "show", "tri", "--json")
    assert json.loads(shown.stdout)["config"] == {"value": 1.0}
    assert cli("models", "rm", "tri", "--yes").exit_code == 0
    assert [line.split("\t")[0] for line in cli("models", "list").stdout.splitlines()] == ["bi"]
    missing = cli("models", "show", "tri")
    assert missing.exit_code == 1 and missing.stderr.startswith("seqtool: error: model 'tri' not found")


# ---------------------------------------------------------------- issue 18: kinds, defaults, list
def test_a_name_holding_another_kind_is_refused_unless_forced():
    store = ModelStore()
    save_np_model(store, "clash", 1.0, kind="ngram")
    with pytest.raises(UsageError, match="model 'clash' is an ngram model; refusing to replace it with a vectors"):
        save_np_model(store, "clash", 2.0, kind="vectors")
    assert load_value(store, "clash") == 1.0
    assert [p.name for p in store.versions.iterdir() if p.name.endswith(".tmp")] == []
    with store.writer("clash", "vectors", force=True) as draft:
        save_tensors({"w": np.full((3, 4), 3.0, dtype=np.float32)}, draft.path / "model.safetensors", framework="np")
    assert store.open("clash", ("vectors",)).kind == "vectors"


def test_a_retrain_of_the_same_kind_keeps_the_previous_version():
    store = ModelStore()
    first = save_np_model(store, "same", 1.0)
    second = save_np_model(store, "same", 2.0)
    assert load_value(store, "same") == 2.0
    assert first.path.is_dir() and first.path != second.path  # the replaced version is kept


def _set_defaults(root, who, rounds, start):
    store = ModelStore(root)
    start.wait()
    for i in range(rounds):
        # A new key each time: any read-change-write that overlaps another one loses a key.
        store.set_default(f"{who}{i}", f"{who}-model")


def test_defaults_set_by_two_processes_at_once_lose_nothing(seqtool_home):
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_set_defaults, args=(seqtool_home, who, 40, start)) for who in ("lm", "ngram")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    data = json.loads((seqtool_home / "defaults.json").read_text())
    assert sorted(data) == sorted(f"{who}{i}" for who in ("lm", "ngram") for i in range(40))


def test_broken_entries_are_listed_as_broken_and_removable(cli, seqtool_home, tmp_path):
    store = ModelStore()
    save_np_model(store, "good", 1.0)
    (tmp_path / "elsewhere").mkdir()
    (store.models / "dangling").symlink_to(".versions/nothing-here")
    (store.models / "outside").symlink_to(tmp_path / "elsewhere")
    entries = {e.name: e for e in store.entries()}
    assert not entries["good"].broken
    assert entries["dangling"].broken and "dangling link" in entries["dangling"].problem
    assert entries["outside"].broken and "outside the model store" in entries["outside"].problem
    rows = {r.split("\t")[0]: r.split("\t") for r in cli("models", "list").stdout.splitlines()}
    assert rows["dangling"][1] == "broken" and rows["dangling"][-1].startswith("broken: dangling link")
    assert rows["good"][-1] == "ok"
    for name in ("dangling", "outside"):
        result = cli("models", "rm", name, "--yes")
        assert result.exit_code == 0, result.stderr
        assert not (store.models / name).is_symlink()
    assert (tmp_path / "elsewhere").is_dir()  # the target of a link out of the store is never touched
    assert [e.name for e in store.entries()] == ["good"]


def test_a_corrupt_defaults_file_does_not_hide_the_models(cli, seqtool_home):
    store = ModelStore()
    save_np_model(store, "kept", 1.0)
    (seqtool_home / "defaults.json").write_text("{not json")
    with pytest.raises(ModelError) as err:
        store.open(None, ["ngram"])
    assert "defaults.json: cannot read the default models (not valid JSON)" in err.value.message
    assert "kept" in err.value.message
    listed = cli("models", "list")
    assert listed.exit_code == 0 and listed.stdout.split("\t")[0] == "kept"
    assert "defaults.json" in listed.stderr
    assert cli("models", "default", "kept").exit_code == 0  # rewrites the file
    assert store.open(None, ["ngram"]).name == "kept"


def test_models_list_columns_json_kinds_and_sizes(cli, seqtool_home):
    store = ModelStore()
    save_np_model(store, "a", 1.0)
    save_np_model(store, "b", 2.0, kind="vectors")
    (store.checkpoint_dir("a") / "checkpoint.pt").write_bytes(b"x" * 1000)
    rows = [line.split("\t") for line in cli("models", "list").stdout.splitlines()]
    assert [r[:3] for r in rows] == [["a", "ngram", "default"], ["b", "vectors", "default"]]
    size_a = sum(f.stat().st_size for f in store.open("a", ["ngram"]).path.iterdir())
    assert rows[0][4] == str(size_a) and rows[0][5] == "1000" and rows[1][5] == ""
    records = [json.loads(line) for line in cli("models", "list", "--json", "--kind", "vectors").stdout.splitlines()]
    assert [(r["name"], r["kind"], r["default"], r["size"]) for r in records] == [
        ("b", "vectors", True, sum(f.stat().st_size for f in store.open("b", ["vectors"]).path.iterdir()))]
    bad = cli("models", "list", "--kind", "foo")
    assert bad.exit_code == 2 and "unknown --kind 'foo'" in bad.stderr


def test_models_default_sets_the_default_of_its_kind(cli):
    store = ModelStore()
    save_np_model(store, "old", 1.0)
    save_np_model(store, "new", 2.0)
    assert store.default_name(["ngram"]) == "new"
    result = cli("models", "default", "old")
    assert result.exit_code == 0, result.stderr
    assert store.default_name(["ngram"]) == "old"
    assert cli("models", "default", "nosuch").exit_code == 1


def test_models_rm_without_a_terminal_and_without_yes_is_a_usage_error(cli):
    save_np_model(ModelStore(), "keep", 1.0)
    result = cli("models", "rm", "keep", input="")
    assert result.exit_code == 2
    assert "pass --yes" in result.stderr and len(result.stderr.splitlines()) == 1
    assert ModelStore().exists("keep")


def test_prune_removes_only_checkpoints_of_finished_runs(cli):
    import torch

    store = ModelStore()
    for name, state in (("done", {"finished": True}), ("halfway", {"finished": False}), ("clf", {})):
        torch.save({"checkpoint_version": 1, "epoch": 3, **state}, store.checkpoint_dir(name) / "checkpoint.pt")
    dry = cli("models", "prune", "--dry-run")
    assert dry.stdout.split("\t")[0] == "done" and store.checkpoint_dir("done", create=False).exists()
    result = cli("models", "prune")
    assert result.exit_code == 0, result.stderr
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == ["done"]
    assert sorted(p.name for p in store.checkpoint_dirs()) == ["clf", "halfway"]


# ---------------------------------------------------------------- issue 19: where the store lives
def test_a_relative_xdg_data_home_is_ignored(monkeypatch, tmp_path):
    from seqtool.core.store import home

    monkeypatch.delenv("SEQTOOL_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")
    assert home() == tmp_path / ".local" / "share" / "seqtool"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "abs"))
    assert home() == tmp_path / "abs" / "seqtool"


def test_xdg_data_home_pointing_at_a_file_is_one_line_naming_the_path(cli, monkeypatch, tmp_path):
    monkeypatch.delenv("SEQTOOL_HOME")
    afile = tmp_path / "afile"
    afile.write_text("x")
    monkeypatch.setenv("XDG_DATA_HOME", str(afile))
    with pytest.raises(StoreError, match=f"{afile}/seqtool/locks: cannot create the model store folder"):
        with ModelStore().lock("m"):
            pass
    with pytest.raises(StoreError, match="cannot create the model store folder"):
        ModelStore().set_default("lm", "m")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_store_is_one_line_naming_the_path(seqtool_home):
    seqtool_home.chmod(0o500)
    try:
        with pytest.raises(StoreError, match=str(seqtool_home)):
            ModelStore().set_default("lm", "m")
    finally:
        seqtool_home.chmod(0o700)


def _child_sleeps(release, ready):
    from seqtool.core.locking import release_inherited_locks

    if release:
        release_inherited_locks()
    ready.set()
    import time

    time.sleep(30)


@pytest.mark.parametrize("release", [True, False])
def test_a_forked_worker_does_not_keep_its_parents_lock(release):
    """What a --jobs worker does first (release_inherited_locks): once the parent is done
    (or dead), the lock is free even while the worker lives."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    store = ModelStore()
    ready = ctx.Event()
    with store.lock("m"):
        child = ctx.Process(target=_child_sleeps, args=(release, ready))
        child.start()
        assert ready.wait(20)
    try:
        if release:
            with store.lock("m"):
                pass
        else:  # without it, the child's inherited copy keeps the lock (the bug of issue 19.5)
            with pytest.raises(StoreError, match="no longer running|in use"):
                with store.lock("m"):
                    pass
    finally:
        child.kill()
        child.join()


def test_models_list_on_a_terminal_is_an_aligned_table_with_a_header(cli, monkeypatch):
    from seqtool.core import console

    store = ModelStore()
    save_np_model(store, "tri", 1.0)
    (store.checkpoint_dir("tri") / "checkpoint.pt").write_bytes(b"x" * 3000)
    monkeypatch.setattr(console, "stdout_is_tty", lambda: True)
    lines = cli("models", "list").stdout.splitlines()
    assert lines[0].split() == ["name", "kind", "default", "created", "size", "checkpoint", "status"]
    assert lines[1].split()[:3] == ["tri", "ngram", "default"] and "2.9 KB" in lines[1]
    assert "\t" not in "".join(lines)
    assert lines[-1].startswith("checkpoints: 2.9 KB in all")


def _worker_of(parent: int) -> None:
    from seqtool.core.locking import die_with_parent

    die_with_parent(parent)
    os._exit(0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("parent_alive", [True, False])
def test_a_worker_whose_parent_already_died_exits_at_once(parent_alive):
    """The race behind a hung kill trial: the parent is SIGKILLed between the fork and the
    worker's prctl, so the worker already belongs to init. The worker compares its parent
    with the pid the parent gave it before the fork, never with what getppid() says then."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    given = os.getpid() if parent_alive else 2 ** 22 + 1  # above Linux's largest pid_max: no process has it
    child = ctx.Process(target=_worker_of, args=(given,))
    child.start()
    child.join(20)
    assert child.exitcode == (0 if parent_alive else 1)
