"""manifest.json carries a checksum: a flipped byte is a clear error, never silently
different values (issue 14, point 5); old recordings without one still open."""
import json
import shutil

import numpy as np
import pytest

from acqflow.storage import open_recording
from acqflow.storage.cli import main
from acqflow.storage.errors import DamagedManifestError, NotARecordingError
from acqflow.storage.manifest import CHECKSUM, loads
from acqflow.testing import examples
from tests.storage.source import make_recording


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("manifest") / "rec"
    make_recording(path, 20, block_s=0.001, block_bytes=8000)
    return path


def damaged_copy(recording, tmp_path, old: bytes, new: bytes):
    bad = tmp_path / "bad"
    shutil.copytree(recording, bad)
    manifest = bad / "manifest.json"
    data = manifest.read_bytes()
    assert old in data
    manifest.write_bytes(data.replace(old, new, 1))
    return bad


@pytest.mark.parametrize("old,new", [(b'"<f4"', b'">f4"'), (b'"sample_rate": 1000', b'"sample_rate": 1001'),
                                     (b'"name": "sig"', b'"name": "sih"')],
                         ids=["byte order", "rate digit", "stream name"])
def test_a_changed_manifest_is_refused_and_verify_says_so(recording, tmp_path, capsys, old, new):
    bad = damaged_copy(recording, tmp_path, old, new)
    with pytest.raises(DamagedManifestError, match="checksum mismatch"):
        open_recording(bad)
    assert main(["verify", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "DAMAGED manifest" in out and "cannot be rebuilt from the blocks" in out
    assert "blocks hold stream id 0: samples [0:" in out and "64 bytes per sample" in out
    assert main(["info", str(bad)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "checksum mismatch" in err


def test_every_single_bit_flip_is_an_error_or_changes_nothing(recording):
    data = (recording / "manifest.json").read_bytes()
    good = loads(data)
    for pos in range(len(data)):
        for mask in (0x01, 0x04, 0x20):
            damaged = bytearray(data)
            damaged[pos] ^= mask
            try:
                m = loads(bytes(damaged))
            except NotARecordingError:
                continue
            assert m == good, f"byte {pos} ^ {mask:#x} silently changed the manifest"


def test_a_damaged_checksum_key_is_not_taken_for_an_old_recording(recording, tmp_path):
    bad = damaged_copy(recording, tmp_path, b'"checksum"', b'"checksun"')
    with pytest.raises(DamagedManifestError, match="holds the checksum"):
        open_recording(bad)


def test_old_recording_without_checksum_opens(recording, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(recording, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest[CHECKSUM]
    (old / "manifest.json").write_text(json.dumps(manifest, indent=1))
    rec = open_recording(old)
    new = open_recording(recording)
    assert rec.committed and list(rec.streams) == list(new.streams)
    np.testing.assert_array_equal(rec["sig"][0:100], new["sig"][0:100])
    assert main(["verify", str(old)]) == 0


@pytest.mark.parametrize("change,expected", [
    (lambda m: m.pop("streams"), "streams is None"),
    (lambda m: m["streams"][0].pop("dtype"), "streams[0] has no dtype"),
    (lambda m: m["streams"][0].update(dtype="<q9"), "streams[0].dtype '<q9' is not a dtype"),
    (lambda m: m["streams"][0].update(shape=[16]), "streams[0].shape is [16]"),
    (lambda m: m["streams"][0].update(sample_rate=-5), "streams[0].sample_rate is -5"),
    (lambda m: m.update(uuid=None), "uuid is None"),
])
def test_old_manifest_with_bad_structure_is_one_clear_line(recording, tmp_path, capsys, change, expected):
    """No checksum to check (an old recording, or one edited by hand): the fields readers
    use are checked, so the answer is a one-line error, not a KeyError or a traceback."""
    old = tmp_path / "old"
    shutil.copytree(recording, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest[CHECKSUM]
    change(manifest)
    (old / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DamagedManifestError) as err:
        open_recording(old)
    assert expected in str(err.value)
    assert main(["info", str(old)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]


def test_damaged_old_manifests_give_one_line_never_a_crash(recording, tmp_path):
    """Random byte damage to a manifest without a checksum (nothing to catch it but the
    structure checks): `rec info` and `rec verify` answer in one line or read it fine."""
    import contextlib
    import io

    from hypothesis import HealthCheck, given, settings, strategies as st

    old = tmp_path / "old"
    shutil.copytree(recording, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest[CHECKSUM]
    good = json.dumps(manifest, indent=1).encode()

    @settings(max_examples=examples(150), deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(0, 255)), min_size=1, max_size=4))
    def damage(edits):
        data = bytearray(good)
        for pos, value in edits:
            data[pos] = value
        (old / "manifest.json").write_bytes(bytes(data))
        for command in ("info", "verify"):
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main([command, str(old)])
            assert code in (0, 1)
            assert len(err.getvalue().strip().splitlines()) <= 1, err.getvalue()

    damage()
