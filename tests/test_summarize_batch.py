"""Batch (--out-dir), JSON lines, sharding and ROUGE evaluation."""

import json
import os
from pathlib import Path

import pytest

from seqtool.summarize import SummaryOptions
from seqtool.summarize import batch as batch_mod

DOC = ("Rivers carry water to the sea. The sea feeds clouds with water. "
       "Clouds bring rain and water back to rivers. My neighbour painted a fence.")


@pytest.fixture
def inbox(tmp_path):
    root = tmp_path / "inbox"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text(DOC, encoding="utf-8")
    (root / "sub" / "b.txt").write_text("Only one sentence lives here.", encoding="utf-8")
    (root / "c.txt").write_text(DOC.replace("water", "mud"), encoding="utf-8")
    return root


def run(specs, out, **kw):
    return batch_mod.run_batch([str(s) for s in specs], out, SummaryOptions(sentences=2), **kw)


def test_batch_writes_one_summary_per_input_at_the_same_relative_path(cli, inbox, tmp_path):
    out = tmp_path / "out"
    result = cli("summarize", inbox, "--out-dir", out, "-n", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
                  and not p.name.startswith(".")) == ["a.txt", "c.txt", "sub/b.txt"]
    assert (out / "sub" / "b.txt").read_text() == "Only one sentence lives here.\n"
    assert len((out / "a.txt").read_text().splitlines()) == 2


def test_incremental_skips_unchanged_inputs_and_redoes_changed_ones(inbox, tmp_path):
    out = tmp_path / "out"
    first = run([inbox], out, incremental=True)
    assert (first.written, first.skipped) == (3, 0)
    again = run([inbox], out, incremental=True)
    assert (again.written, again.skipped) == (0, 3)
    (inbox / "c.txt").write_text("Completely new text arrived. It is new text.", encoding="utf-8")
    (out / "a.txt").unlink()  # a deleted output is rewritten even though its input is unchanged
    third = run([inbox], out, incremental=True)
    assert (third.written, third.skipped) == (2, 1)
    assert "new text" in (out / "c.txt").read_text()
    # Other options: everything again.
    other = batch_mod.run_batch([str(inbox)], out, SummaryOptions(sentences=1), incremental=True)
    assert other.written == 3
    state = json.loads((out / batch_mod.STATE_FILE).read_text())
    assert set(state["files"]) == {"a.txt", "c.txt", "sub/b.txt"}


def test_a_failing_file_is_reported_and_the_batch_goes_on(cli, inbox, tmp_path):
    (inbox / "bad.txt").write_bytes(b"caf\xe9 au lait.\n")
    out = tmp_path / "out"
    result = cli("summarize", inbox, "--out-dir", out)
    assert result.exit_code == 1
    assert "bad.txt: invalid utf-8 at byte 3" in result.stderr
    assert "1 of 4 input(s) failed" in result.stderr.splitlines()[-1]
    assert (out / "a.txt").exists() and (out / "sub" / "b.txt").exists() and not (out / "bad.txt").exists()


def test_a_crash_mid_write_leaves_no_half_written_file(inbox, tmp_path, monkeypatch):
    from seqtool.summarize import commit

    out = tmp_path / "out"
    run([inbox], out)
    before = (out / "a.txt").read_text()

    def half(fd, text):
        with os.fdopen(fd, "w") as fh:
            fh.write(text[: len(text) // 2])
            fh.flush()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(commit, "_write_temp", half)
    (inbox / "new.txt").write_text(DOC, encoding="utf-8")
    (inbox / "a.txt").write_text(DOC + " Extra sentence about water and rivers.", encoding="utf-8")
    result = run([inbox], out)
    assert len(result.failed) == 4
    assert all("No space left on device" in message for _, message in result.failed)
    assert (out / "a.txt").read_text() == before  # the old summary, whole
    assert not (out / "new.txt").exists()
    assert [p.name for p in out.rglob("*.tmp")] == []


def test_group_commit_syncs_the_data_before_any_rename_and_the_renames_before_the_state(
        inbox, tmp_path, monkeypatch):
    """The power-loss guarantee is an order of operations: temp files durable, then the
    renames, then their sync, and only then a state file that names the summaries."""
    from seqtool.summarize import commit

    events = []
    real_sync, real_replace, real_save = commit.sync_filesystem, os.replace, batch_mod.save_state

    def sync(folder):
        events.append(("sync", len(list(Path(folder).rglob(".seqtool-tmp-*")))))
        return real_sync(folder)

    def replace(src, dst):
        if Path(dst).name != batch_mod.STATE_FILE:  # (os.replace is also atomic_write's)
            events.append(("rename", Path(dst).name))
        return real_replace(src, dst)

    def save(out_dir, files):
        events.append(("state", len(files)))
        return real_save(out_dir, files)

    monkeypatch.setattr(commit, "sync_filesystem", sync)
    monkeypatch.setattr(commit.os, "replace", replace)
    monkeypatch.setattr(batch_mod, "save_state", save)
    out = tmp_path / "out"
    result = run([inbox], out)
    assert result.written == 3
    kinds = [kind for kind, _ in events]
    # one group: sync (3 temp files staged), 3 renames, sync, then the state of 3 summaries
    assert kinds[:5] == ["sync", "rename", "rename", "rename", "sync"], events
    assert events[0] == ("sync", 3)
    assert events[-1][0] == "state" and events[-1][1] == 3
    assert kinds.index("state") > 4  # no state file before the summaries are on disk
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt")) == ["a.txt", "c.txt", "sub/b.txt"]


def test_group_commit_without_syncfs_fsyncs_each_file_and_folder(tmp_path, monkeypatch):
    from seqtool.summarize import commit

    synced = []
    monkeypatch.setenv("SEQTOOL_NO_SYNCFS", "1")
    monkeypatch.setattr(commit, "_fsync_file", lambda path: synced.append(Path(path).name))
    monkeypatch.setattr(commit, "fsync_dir", lambda path: synced.append(Path(path).name + "/"))
    done = []
    writer = commit.GroupCommit(tmp_path, group_files=2)
    writer.add(tmp_path / "x" / "a.txt", "one\n", lambda: done.append("a"))
    assert done == [] and not (tmp_path / "x" / "a.txt").exists()  # staged, not visible
    writer.add(tmp_path / "y" / "b.txt", "two\n", lambda: done.append("b"))  # the second fills the group
    assert done == ["a", "b"]
    assert (tmp_path / "x" / "a.txt").read_text() == "one\n" and (tmp_path / "y" / "b.txt").read_text() == "two\n"
    assert len(synced) == 4 and synced[2:] == ["x/", "y/"]  # both temp files, then both folders
    assert all(name.startswith(".seqtool-tmp-") for name in synced[:2])
    writer.add(tmp_path / "x" / "c.txt", "three\n")
    writer.discard()
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["a.txt"]


def test_a_second_overlapping_run_stops_with_a_clear_message(cli, inbox, tmp_path):
    out = tmp_path / "out"
    with batch_mod.out_dir_lock(out):
        result = cli("summarize", inbox, "--out-dir", out)
    assert result.exit_code == 1
    assert "being written by another seqtool summarize" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr
    assert not (out / "a.txt").exists()
    assert cli("summarize", inbox, "--out-dir", out).exit_code == 0  # the lock is released


def test_out_dir_inside_the_input_folder_is_not_summarized_again(inbox):
    out = inbox / "summaries"
    run([inbox], out)
    second = run([inbox], out)
    assert second.total == 3


def test_shards_split_the_inputs_exactly(inbox, tmp_path):
    names = []
    for k in (1, 2, 3):
        run([inbox], tmp_path / f"out{k}", shard=f"{k}/3")
        names += [p.name for p in (tmp_path / f"out{k}").rglob("*.txt")]
    assert sorted(names) == ["a.txt", "b.txt", "c.txt"]
    with pytest.raises(Exception, match="K/N"):
        batch_mod.parse_shard("2-3")


def test_jobs_give_the_same_output_as_one_process(cli, inbox, tmp_path):
    assert cli("summarize", inbox, "--out-dir", tmp_path / "one").exit_code == 0
    assert cli("summarize", inbox, "--out-dir", tmp_path / "two", "--jobs", "2").exit_code == 0
    for name in ("a.txt", "c.txt", "sub/b.txt"):
        assert (tmp_path / "one" / name).read_text() == (tmp_path / "two" / name).read_text()


# ---------------------------------------------------------------- JSON lines
def test_jsonl_round_trip(cli, tmp_path):
    records = [{"id": "x1", "text": DOC}, {"id": 7, "text": "Tiny text."}, {"id": "e", "text": ""}]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    result = cli("summarize", "--jsonl", path, "-n", "2")
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["x1", 7, "e"]
    # One record shape for every JSON output of summarize (issue 18.9).
    assert set(out[0]) == {"id", "summary", "scores", "indices", "sentences"}
    assert len(out[0]["summary"]) == 2 and all(s in DOC for s in out[0]["summary"])
    assert out[1]["summary"] == ["Tiny text."]
    assert out[2] == {"id": "e", "summary": [], "scores": [], "indices": [], "sentences": 0}
    # The output is valid input again (as {"id", "text"} after a join).
    again = "\n".join(json.dumps({"id": o["id"], "text": " ".join(o["summary"])}) for o in out)
    result = cli("summarize", "--jsonl", "-", "-n", "2", "--jobs", "2", input=again)
    assert [json.loads(line)["summary"] for line in result.stdout.splitlines()] == [o["summary"] for o in out]


def test_jsonl_bad_lines_are_reported_and_the_rest_goes_on(cli):
    text = '{"id": 1, "text": "Fine here."}\nnot json\n{"id": 3}\n{"id": 4, "text": "Also fine."}\n'
    result = cli("summarize", "--jsonl", "-", input=text)
    assert result.exit_code == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1, 4]
    assert "<stdin>:2: not valid JSON" in result.stderr and "<stdin>:3:" in result.stderr
    assert "2 of 4 record(s) failed" in result.stderr


def test_jsonl_shards_partition_the_records(cli):
    text = "\n".join(json.dumps({"id": i, "text": f"Record number {i}."}) for i in range(20))
    seen = []
    for k in (1, 2):
        result = cli("summarize", "--jsonl", "-", "--shard", f"{k}/2", input=text)
        seen += [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert sorted(seen) == list(range(20))


# ---------------------------------------------------------------- ROUGE
def test_eval_scores_against_references_with_the_same_names(cli, inbox, tmp_path):
    refs = tmp_path / "refs"
    (refs / "sub").mkdir(parents=True)
    (refs / "sub" / "b.txt").write_text("Only one sentence lives here.", encoding="utf-8")
    # Glued like BBC News Summary: "sea.The" must still count as two sentences (k = 2).
    (refs / "a.txt").write_text("Rivers carry water to the sea.The sea feeds clouds with water.", encoding="utf-8")
    result = cli("summarize", inbox, "--eval", refs, "--json")
    assert result.exit_code == 1  # c.txt has no reference
    assert "c.txt: no reference" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r.get("document") for r in rows[:2]] == ["a.txt", "sub/b.txt"]
    assert 0.0 < rows[0]["rouge1"] <= 1.0
    assert rows[1] == {"document": "sub/b.txt", "rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}
    assert rows[-1]["documents"] == 2
    text = cli("summarize", inbox / "sub" / "b.txt", "--eval", refs / "sub")
    assert text.exit_code == 0
    assert text.stdout.splitlines() == ["document\trouge1\trouge2\trougeL", "b.txt\t1.0000\t1.0000\t1.0000",
                                        "MEAN\t1.0000\t1.0000\t1.0000"]


# ---------------------------------------------------------------- issues 18 and 19: the batch's edges
def test_stale_temp_cleanup_removes_only_seqtool_temps(cli, inbox, tmp_path):
    out = tmp_path / "out"
    (out / "notes" / "deep").mkdir(parents=True)
    (out / "sub").mkdir()
    foreign = [out / ".cache.tmp", out / "notes" / "deep" / ".report.docx.tmp", out / "sub" / ".b.txt.x1y2z3w4.tmp"]
    for path in foreign:
        path.write_text("someone else's")
    stale = out / "sub" / ".seqtool-tmp-b.txt.ab12cd34.tmp"
    stale.write_text("left by a killed run")
    assert cli("summarize", inbox, "--out-dir", out).exit_code == 0
    assert all(p.read_text() == "someone else's" for p in foreign)
    assert not stale.exists()


def test_a_symlink_in_the_output_tree_is_refused(cli, inbox, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.txt").write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(elsewhere)
    result = cli("summarize", inbox, "--out-dir", out)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"seqtool: error: {out / 'sub'}: a symbolic link inside the output folder; refusing to write through it "
        f"(remove it or choose another --out-dir)"]
    assert (elsewhere / "b.txt").read_text() == "keep" and sorted(os.listdir(elsewhere)) == ["b.txt"]
    assert not (out / "a.txt").exists()


def test_a_link_planted_after_the_check_is_caught_by_the_writer(inbox, tmp_path):
    from seqtool.summarize.commit import GroupCommit

    elsewhere = tmp_path / "elsewhere"
    (elsewhere).mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(elsewhere)
    writer = GroupCommit(out)
    message = batch_mod._stage(writer, os.path.realpath(out), str(out / "sub" / "b.txt"), "summary\n", None)
    assert message is not None and "leads outside the output folder" in message
    writer.commit()
    assert writer.pending == 0 and os.listdir(elsewhere) == []


@pytest.mark.parametrize("where", ["inbox", "."])
def test_out_dir_holding_every_input_says_so(cli, inbox, where, monkeypatch):
    monkeypatch.chdir(inbox.parent)
    result = cli("summarize", "inbox", "--out-dir", where)
    assert result.exit_code == 2
    assert "every input is inside the output folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_inputs_inside_the_out_dir_are_named_when_skipped(cli, inbox, tmp_path):
    out = inbox / "summaries"
    assert cli("summarize", inbox, "--out-dir", out).exit_code == 0
    again = cli("summarize", inbox, "--out-dir", out)
    assert again.exit_code == 0
    assert "skipped 3 input(s) inside the output folder" in again.stderr


def test_json_files_have_the_json_suffix_and_the_stdout_shape(cli, inbox, tmp_path):
    out = tmp_path / "out"
    result = cli("summarize", inbox, "--out-dir", out, "--json", "-n", "2")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if not p.name.startswith(".")
                  and p.is_file()) == ["a.json", "c.json", "sub/b.json"]
    from_file = json.loads((out / "a.json").read_text())
    from_stdout = json.loads(cli("summarize", inbox / "a.txt", "--json", "-n", "2").stdout)
    assert set(from_file) == set(from_stdout) == {"id", "summary", "scores", "indices", "sentences"}
    assert from_file["summary"] == from_stdout["summary"] and from_file["id"] == "a.txt"


def test_batch_logs_one_summary_line_even_without_a_terminal(cli, inbox, tmp_path):
    result = cli("summarize", inbox, "--out-dir", tmp_path / "out")
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("seqtool: summarize: 3 summarized, 0 unchanged, 0 failed of 3 in ")
    assert lines[0].endswith(" s")
    assert cli("--quiet", "summarize", inbox, "--out-dir", tmp_path / "out2").stderr == ""


def test_names_that_are_not_utf8_work_with_shards_and_json(cli, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    raw = os.fsencode(str(src)) + b"/caf\xe9.txt"
    with open(raw, "wb") as fh:
        fh.write(DOC.encode())
    (src / "plain.txt").write_text(DOC)
    seen = []
    for k in (1, 2):
        result = cli("summarize", src, "--out-dir", tmp_path / f"o{k}", "--shard", f"{k}/2", "--json")
        assert result.exit_code == 0, result.stderr
        seen += [p.name for p in (tmp_path / f"o{k}").iterdir() if not p.name.startswith(".")]
    assert sorted(seen) == sorted([os.fsdecode(b"caf\xe9.json"), "plain.json"])
    out = next(p for p in (tmp_path / "o1").iterdir() if "caf" in p.name) if any(
        "caf" in p.name for p in (tmp_path / "o1").iterdir()) else next(
        p for p in (tmp_path / "o2").iterdir() if "caf" in p.name)
    assert json.loads(out.read_text())["id"] == "caf\\xe9.txt"


def test_dev_zero_in_batch_mode_fails_quickly_with_a_clear_error(cli, tmp_path):
    import time

    start = time.monotonic()
    result = cli("summarize", "/dev/zero", "--out-dir", tmp_path / "o")
    assert result.exit_code == 1
    assert "/dev/zero: binary data (NUL byte) at byte 0" in result.stderr
    assert time.monotonic() - start < 10


def test_batch_reads_each_input_once_so_a_fifo_works(cli, tmp_path):
    import threading

    src = tmp_path / "in"
    src.mkdir()
    fifo = src / "f.txt"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(DOC))
    writer.start()
    result = cli("summarize", fifo, "--out-dir", tmp_path / "o", "-n", "1")
    writer.join(5)
    assert not writer.is_alive()
    assert result.exit_code == 0, result.stderr
    assert len((tmp_path / "o" / "f.txt").read_text().splitlines()) == 1


def test_batch_line_limit_is_the_plain_mode_one(cli, tmp_path, monkeypatch):
    from seqtool.core import readers

    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 1000)
    big = tmp_path / "in" / "big.txt"
    big.parent.mkdir()
    big.write_text("word " * 1000)
    plain = cli("summarize", big)
    batch = cli("summarize", big.parent, "--out-dir", tmp_path / "o")
    assert plain.exit_code == batch.exit_code == 1
    assert "line 1 is longer than" in plain.stderr and "line 1 is longer than" in batch.stderr


@pytest.mark.parametrize("given, expected", [(None, 1), ("2", 2)])
def test_the_cli_gives_summarize_one_blas_thread_unless_the_user_sets_it(inbox, tmp_path, given, expected):
    """Per document the matrices are tens of rows: BLAS threads would only spin (issue 22)."""
    import subprocess
    import sys

    pytest.importorskip("threadpoolctl")
    code = ("import atexit, runpy, sys, threadpoolctl\n"
            "atexit.register(lambda: print('BLAS', sorted({p['num_threads'] for p in "
            "threadpoolctl.threadpool_info() if p['user_api'] == 'blas'}), file=sys.stderr))\n"
            f"sys.argv = ['seqtool', 'summarize', {str(inbox)!r}, '--out-dir', {str(tmp_path / 'out')!r}]\n"
            "runpy.run_module('seqtool', run_name='__main__', alter_sys=True)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = given
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1] == f"BLAS {[expected]}"
    assert (tmp_path / "out" / "a.txt").exists()


def _blas_threads(_item):
    from threadpoolctl import threadpool_info

    return sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})


def test_each_worker_of_a_library_batch_runs_one_blas_thread():
    """The workers fork with the parent's BLAS loaded (here, pytest's default count)."""
    pytest.importorskip("threadpoolctl")
    from seqtool.summarize.parallel import ordered_map

    assert list(ordered_map(_blas_threads, range(4), jobs=2, state={}, chunk=1)) == [[1]] * 4
