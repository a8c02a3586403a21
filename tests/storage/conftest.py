"""Fixtures shared by the storage tests."""
import pytest

from tests.storage.video import make_video_recording


@pytest.fixture(scope="module")
def video_rec(tmp_path_factory):
    """The reference video recording (tests/storage/video.py), written once per module."""
    return make_video_recording(tmp_path_factory.mktemp("vid") / "rec")
