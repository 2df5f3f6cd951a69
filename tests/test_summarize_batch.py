"""Batch (--out-dir), JSON lines, sharding and ROUGE evaluation."""

import contextlib
import json
import os

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
    out = tmp_path / "out"
    run([inbox], out)
    before = (out / "a.txt").read_text()
    real = batch_mod.atomic_write

    @contextlib.contextmanager
    def crashing(path, *args, **kwargs):
        if str(path).endswith(batch_mod.STATE_FILE):
            with real(path, *args, **kwargs) as fh:
                yield fh
            return
        with real(path, *args, **kwargs) as fh:
            class Half:
                def write(self, text):
                    fh.write(text[: len(text) // 2])
                    fh.flush()
                    raise OSError(28, "No space left on device")
            yield Half()

    monkeypatch.setattr(batch_mod, "atomic_write", crashing)
    (inbox / "new.txt").write_text(DOC, encoding="utf-8")
    (inbox / "a.txt").write_text(DOC + " Extra sentence about water and rivers.", encoding="utf-8")
    result = run([inbox], out)
    assert len(result.failed) == 4
    assert (out / "a.txt").read_text() == before  # the old summary, whole
    assert not (out / "new.txt").exists()
    assert [p.name for p in out.rglob("*.tmp")] == []


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
        result = run([inbox], tmp_path / f"out{k}", shard=f"{k}/3")
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
