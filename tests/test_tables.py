"""Tables on stdout are data: TSV with a header when piped, aligned text on a terminal, never
box-drawing characters (issue 18 item 8)."""

from __future__ import annotations

from seqtool.core import console


def test_tsv_when_stdout_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(console, "stdout_is_tty", lambda: False)
    console.emit_table(["label", "f1"], [["pos", "0.9000"], ["neg", 1]], title="per class")
    assert capsys.readouterr().out == "label\tf1\npos\t0.9000\nneg\t1\n"


def test_aligned_text_on_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(console, "stdout_is_tty", lambda: True)
    console.emit_table(["label", "f1"], [["positive", "0.9"], ["neg", "10.25"]], title="per class")
    assert capsys.readouterr().out == ("per class\n"
                                       "label        f1\n"
                                       "positive    0.9\n"
                                       "neg       10.25\n")


def test_classify_eval_piped_is_tsv_without_box_characters(cli, tmp_path):
    data = tmp_path / "toy.tsv"
    data.write_text("".join(f"pos\tgreat fine film {i}\nneg\tdull bad plot {i}\n" for i in range(20)))
    assert cli("classify", "train", str(data), "--name", "t", "--epochs", "2").exit_code == 0
    out = cli("classify", "eval", str(data), "--model", "t").stdout
    assert not any(0x2500 <= ord(ch) <= 0x257F for ch in out)  # the box-drawing block
    lines = out.splitlines()
    assert "label\tprecision\trecall\tf1\tsupport" in lines
    assert any(line.startswith("gold \\ predicted\t") for line in lines)
