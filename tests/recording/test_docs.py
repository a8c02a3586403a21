"""The Recorder and Player snippets of docs/recording.md run as written, in order."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_recorder_and_player_snippets_run(tmp_path, monkeypatch, capsys):
    text = open(os.path.join(ROOT, "docs", "recording.md")).read()
    text = text[text.index("<!-- runnable"):text.index("## `acqflow rec`")]
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/recording.md", "exec"), namespace)
    out = capsys.readouterr().out.split()
    assert out[:4] == ["1", "100", "300", "(100,"]
