"""The Recorder and Player snippets of docs/recording.md run as written, in order."""
from tests.docsnippets import python_snippets, run_in_order


def test_recorder_and_player_snippets_run(tmp_path, monkeypatch, capsys):
    blocks = python_snippets("docs/recording.md", "<!-- runnable", "## `acqflow rec`")
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    run_in_order(blocks)
    out = capsys.readouterr().out.split()
    assert out[:4] == ["1", "100", "300", "(100,"]
