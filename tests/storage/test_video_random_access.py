"""Random access into compressed video: a frame read at random equals the frame read in a
row, slices and time slices across GOPs, the decoder kept between reads, and reads of a
recording on S3 through the local cache."""
import random

import numpy as np
import pytest

from acqflow.storage import LocalCache, open_recording, upload
from tests.storage.videopk import pattern, record

pytest.importorskip("av")


@pytest.fixture(scope="module")
def h264(tmp_path_factory):
    path = tmp_path_factory.mktemp("ra") / "rec"
    record(path, {"name": "h264", "gop": 12}, n=100, pause_at=50)
    return path


def test_random_frames_equal_frames_read_in_a_row(h264):
    in_row = open_recording(h264)["cam"][:]
    cam = open_recording(h264)["cam"]
    order = list(range(100))
    random.Random(3).shuffle(order)
    for i in order[:40]:
        np.testing.assert_array_equal(cam[i], in_row[i])
    for a, b in [(5, 30), (11, 13), (12, 12), (90, 100), (0, 1), (47, 61)]:
        np.testing.assert_array_equal(cam[a:b], in_row[a:b])
    np.testing.assert_array_equal(cam[-1], in_row[-1])
    np.testing.assert_array_equal(cam[3:40:7], in_row[3:40:7])


def test_reading_in_a_row_does_not_seek_again(h264):
    rec = open_recording(h264)
    cam = rec["cam"]
    for i in range(100):
        cam[i]
    assert rec.decoder(cam).seeks == 1
    cam[55]                          # cached
    assert rec.decoder(cam).seeks == 1
    rec.decoder(cam).clear()
    cam[55]                          # from the keyframe at 48
    assert rec.decoder(cam).seeks == 2 and rec.decoder(cam).keyframe_before(55) == 48


def test_time_slice_uses_each_frames_time(h264):
    cam = open_recording(h264)["cam"]
    t = cam.times()
    assert t[50] - t[49] == pytest.approx(0.5 + 1 / 30)          # the pause is kept
    got = cam.time_slice(t[45], t[55])
    np.testing.assert_array_equal(got, cam[45:55])
    assert len(cam.time_slice(t[49] + 0.1, t[50])) == 0


def test_read_frames_are_the_right_ones(h264):
    cam = open_recording(h264)["cam"]
    src = np.stack([pattern(i) for i in range(100)]).astype(float)
    for i in (0, 13, 50, 99):
        errs = [np.mean((cam[i] - src[j]) ** 2) for j in range(100)]
        assert int(np.argmin(errs)) == i


def test_random_access_through_s3_cache(h264, s3, tmp_path):
    from tests.conftest import S3_BUCKET
    options, _fs = s3
    url = f"s3://{S3_BUCKET}/video/h264"
    upload(h264, url, options)
    in_row = open_recording(h264)["cam"][:]
    cache = LocalCache(tmp_path / "cache", max_bytes=64 << 20)
    cam = open_recording(url, cache=cache, storage_options=options)["cam"]
    for i in (77, 3, 50, 99, 12):
        np.testing.assert_array_equal(cam[i], in_row[i])
    np.testing.assert_array_equal(cam[20:45], in_row[20:45])
    assert cache.stats()["misses"] > 0
    again = open_recording(url, cache=LocalCache(tmp_path / "cache", max_bytes=64 << 20),
                           storage_options=options)["cam"]
    np.testing.assert_array_equal(again[64], in_row[64])
    assert again.recording.backend.cache.stats()["hits"] > 0
