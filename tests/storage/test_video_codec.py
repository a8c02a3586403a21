"""Compressed video codecs (h264, hevc, ffv1 through PyAV): round trips with the real
encoders, GOP-aligned blocks, codec parameter checks, the encoder falling behind."""
import logging

import numpy as np
import pytest

from acqflow.storage import RecordingWriter, open_recording
from acqflow.storage.format import HEADER_SIZE, VERSION, parse_header
from acqflow.storage.manifest import segment_name
from tests.storage.videopk import params, pattern, psnr, record

pytest.importorskip("av")


@pytest.mark.parametrize("codec", [{"name": "h264", "lossless": True}, "ffv1"])
@pytest.mark.parametrize("channels", [3, 1])
def test_lossless_codecs_equal_the_source(tmp_path, codec, channels):
    rec = record(tmp_path / "rec", codec, n=70, channels=channels)
    cam = rec["cam"]
    src = np.stack([pattern(i, channels=channels) for i in range(70)])
    if channels == 1:
        src = src[..., 0]
    assert len(cam) == 70 and cam.n_records == 70 and not cam.gaps
    np.testing.assert_array_equal(cam[:], src)
    np.testing.assert_array_equal(cam[45], src[45])


@pytest.mark.parametrize("codec,encoder", [({"name": "h264", "crf": 23}, "libx264"),
                                           ({"name": "hevc", "crf": 28}, "libx265")])
def test_lossy_codecs_are_close_and_small(tmp_path, codec, encoder):
    rec = record(tmp_path / "rec", codec, n=60)
    cam = rec["cam"]
    assert cam.codec["encoder"] == encoder and cam.codec["gop"] == 30
    got = cam[:]
    src = np.stack([pattern(i) for i in range(60)])
    assert psnr(got, src) > 28
    stored = int(cam.record_table()["nbytes"].sum())
    assert stored < src.nbytes / 20


def test_keyframes_every_gop_and_every_block_starts_on_one(tmp_path):
    rec = record(tmp_path / "rec", {"name": "h264", "gop": 10}, n=95, block_s=0.001)
    cam = rec["cam"]
    flags = cam.record_table()["flags"]
    assert list(np.flatnonzero(flags)) == list(range(0, 95, 10))
    firsts = {}
    for block in rec._index.blocks:
        recs = [r for r in block.records if r.stream == cam.sid]
        if recs:
            firsts[block.seq] = recs[0]
            assert recs[0].flags == 1, block
    assert len(firsts) > 1
    # a compressed block is a version-2 block; a raw-only one stays version 1
    seg = (tmp_path / "rec" / segment_name(0)).read_bytes()
    assert parse_header(seg[:HEADER_SIZE]) and seg[4:6] == VERSION.to_bytes(2, "little")
    with RecordingWriter(tmp_path / "raw") as w:
        w.add_stream("cam", params())
        w.write("cam", pattern(0)[None])
    raw = (tmp_path / "raw" / segment_name(0)).read_bytes()
    assert raw[4:6] == (1).to_bytes(2, "little")


def test_every_block_decodes_alone(tmp_path):
    rec = record(tmp_path / "rec", {"name": "h264", "gop": 15}, n=60, block_s=0.001)
    cam = rec["cam"]
    a = cam.record_table()
    from acqflow.storage.videocodec import open_decoder
    for b in np.unique(a["block"]):
        ks = np.flatnonzero(a["block"] == b)
        dec = open_decoder(cam.codec, cam.shape[2], cam.shape[1])
        import av
        n = 0
        for k, data in rec.record_payloads(cam, int(ks[0]), int(ks[-1]) + 1):
            n += len(dec.decode(av.Packet(bytes(data))))
        assert n == len(ks)


@pytest.mark.parametrize("codec,word", [
    ({"name": "h264", "preset": "warp"}, "'warp'"),
    ({"name": "h264", "crf": 99}, "h264 crf must be an int in 0..51, got 99"),
    ({"name": "h264", "crf": 20, "bitrate": "2M"}, "not both"),
    ({"name": "h264", "bitrate": "lots"}, "'lots'"),
    ({"name": "h264", "gop": 0}, "h264 gop must be an int in 1..10000, got 0"),
    ({"name": "h264", "pix_fmt": "yuv999"}, "'yuv999'"),
    ({"name": "h264", "quality": 3}, "'quality'"),
    ({"name": "h264", "encoder": "x"}, "'x'"),
    ({"name": "ffv1", "crf": 3}, "crf"),
    ({"name": "h266"}, "'h266'"),
    ({"name": "h264", "lossless": "yes"}, "'yes'"),
])
def test_bad_codec_values_get_one_line_errors(tmp_path, codec, word):
    with RecordingWriter(tmp_path / "rec") as w:
        with pytest.raises(ValueError) as err:
            w.add_stream("cam", params(), codec=codec)
    msg = str(err.value)
    assert word in msg and "\n" not in msg


def test_odd_frame_size_needs_a_444_format(tmp_path):
    with RecordingWriter(tmp_path / "rec") as w:
        with pytest.raises(ValueError, match="even frame size"):
            w.add_stream("cam", params(h=33, w=64), codec="h264")
        w.add_stream("cam", params(h=33, w=64), codec={"name": "h264", "pix_fmt": "yuv444p"})
        w.write("cam", pattern(0, 33, 64)[None])
    assert open_recording(tmp_path / "rec")["cam"][0].shape == (33, 64, 3)


def test_no_hardware_encoder_here_says_so_and_uses_the_cpu(tmp_path, caplog):
    import acqflow.storage.videocodec as vc
    vc._probed.clear()
    with caplog.at_level(logging.INFO, "acqflow.storage"):
        with RecordingWriter(tmp_path / "rec") as w:
            w.add_stream("cam", params(), codec="h264")
    entry = open_recording(tmp_path / "rec")["cam"].codec
    used = entry["encoder"]
    if used == "libx264":                   # each hardware encoder, and why not, in words
        said = [r.message for r in caplog.records if "no hardware encoder here" in r.message]
        assert len(said) == 1 and "encoding on the CPU with libx264" in said[0], said
        assert all(f"{hw}: " in said[0] for hw in ("h264_nvenc", "h264_vaapi", "h264_qsv"))
        assert ("not in this PyAV/FFmpeg build" in said[0] or "no usable" in said[0]) \
            and "Error" not in said[0], said        # words, not exception class names
        with pytest.raises(ValueError, match=r"h264_nvenc.*(no usable NVIDIA GPU and driver|not "
                                             r"in this PyAV/FFmpeg build).*encoder='auto'"):
            with RecordingWriter(tmp_path / "nvenc") as w:
                w.add_stream("cam", params(), codec={"name": "h264", "encoder": "h264_nvenc"})
    else:                                   # a machine with a working hardware encoder
        assert any(used in r.message for r in caplog.records)
    with RecordingWriter(tmp_path / "cpu") as w:
        w.add_stream("cam", params(), codec={"name": "h264", "encoder": "cpu"})
    assert open_recording(tmp_path / "cpu")["cam"].codec["encoder"] == "libx264"


def test_slow_encoder_moves_to_a_faster_preset_then_drops_are_counted_gaps(tmp_path, caplog):
    big = (-1, 240, 320, 3)
    frames = [pattern(i, 240, 320) for i in range(4)]
    with caplog.at_level(logging.WARNING, "acqflow.storage"):
        with RecordingWriter(tmp_path / "rec", block_s=0.05) as w:
            w.add_stream("cam", {"streamtype": "video", "shape": big, "sample_rate": 30.0},
                         codec={"name": "h264", "preset": "slower", "queue": 6})
            sent = [w.write("cam", frames[i % 4][None], index=i + 1) for i in range(60)]
    stats = w.stats()["streams"]["cam"]
    cam = open_recording(tmp_path / "rec")["cam"]
    assert stats["slowdowns"] >= 1 and stats["preset"] != "slower"
    assert any("falls behind" in r.message for r in caplog.records)
    dropped = sent.count(False)
    assert stats["dropped_samples"] == dropped
    assert cam.n_samples == 60 - dropped
    assert sum(b - a for a, b in cam.gaps) + (60 - cam.stop_index) == dropped
    first_drop = sent.index(False) if dropped else None
    if first_drop is not None:      # the first slowdown came before the first drop
        msgs = [r.message for r in caplog.records]
        assert "preset slower -> slow" in msgs[0], msgs
    for k in range(cam.n_records):  # what is stored decodes, each frame at its index
        s, _, _ = cam.record_bounds(k)
        assert cam[s].shape == (240, 320, 3)


def test_append_continues_with_a_new_gop(tmp_path):
    codec = {"name": "h264", "lossless": True, "gop": 10, "queue": 100}
    record(tmp_path / "rec", codec, n=25)
    with RecordingWriter(tmp_path / "rec", mode="append") as w:
        w.add_stream("cam", params(), codec=codec)
        for i in range(30, 40):                     # after a gap [25:30)
            assert w.write("cam", pattern(i)[None], index=i + 1)
    cam = open_recording(tmp_path / "rec")["cam"]
    assert cam.gaps == [(25, 30)] and cam.stop_index == 40
    assert list(np.flatnonzero(cam.record_table()["flags"])) == [0, 10, 20, 25]
    np.testing.assert_array_equal(cam[30:40], np.stack([pattern(i) for i in range(30, 40)]))
    np.testing.assert_array_equal(cam[22], pattern(22))


def test_the_callers_buffer_may_change_after_write(tmp_path):
    buf = np.empty((1, 96, 128, 3), np.uint8)
    with RecordingWriter(tmp_path / "rec") as w:
        w.add_stream("cam", params(), codec={"name": "ffv1", "queue": 50})
        for i in range(20):
            buf[0] = pattern(i)
            assert w.write("cam", buf)
        buf[:] = 0
    got = open_recording(tmp_path / "rec")["cam"][:]
    np.testing.assert_array_equal(got, np.stack([pattern(i) for i in range(20)]))
