"""Compressed video codecs (H.264, HEVC, FFV1) through PyAV: the codec spec and its encoders.

A stream with one of these codecs is stored as the encoder's packets, one record per
packet (:mod:`.videoenc` encodes, :mod:`.videoread` decodes, :mod:`.export_remux`
copies them into MKV/MP4).  PyAV is imported only when such a codec is used.  Every GOP
is closed and starts with the decoder headers (SPS/PPS/VPS repeated in-band), there are
no B-frames, so packets come out in frame order and any keyframe starts a decodable run.

Hardware encoders (NVENC, VAAPI, QSV) are used when one opens on this machine
(``encoder='auto'``, the default for h264/hevc), the CPU encoder otherwise; the choice is
logged and stored as the codec entry's ``encoder``.
"""
from __future__ import annotations

import logging
import os
from fractions import Fraction
from typing import Any, TypeGuard

import numpy as np

from acqflow.dataflow.paramcheck import did_you_mean, flag, int_in
from acqflow.dataflow.shortrepr import short_repr

__all__ = ["PACKET_CODECS", "ALIASES", "PRESETS", "is_packet_codec", "normalize_packet_codec",
           "open_encoder", "open_decoder", "frame_lag", "decoder_threads", "faster_preset",
           "input_format", "av_module"]

log = logging.getLogger("acqflow.storage")

# name -> (CPU encoder, decoder, default pix_fmt, crf range, default crf)
PACKET_CODECS = {"h264": ("libx264", "h264", "yuv420p", 51, 23),
                 "hevc": ("libx265", "hevc", "yuv420p", 51, 28),
                 "ffv1": ("ffv1", "ffv1", None, None, None)}
ALIASES = {"h265": "hevc", "avc": "h264", "x264": "h264", "x265": "hevc"}
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
           "slower", "veryslow")
_HARDWARE = {"h264": ("h264_nvenc", "h264_vaapi", "h264_qsv"),
             "hevc": ("hevc_nvenc", "hevc_vaapi", "hevc_qsv")}
_KEYS = ("name", "preset", "crf", "bitrate", "gop", "pix_fmt", "lossless", "encoder",
         "threads", "queue")
_probed: dict[str, str | None] = {}      # hardware encoder name -> None (works) or why not


def av_module() -> Any:
    """PyAV, or an ImportError naming the extra that installs it."""
    try:
        import av
    except ImportError:
        raise ImportError("compressed video codecs (h264, hevc, ffv1) need PyAV: "
                          "pip install 'acqflow[video]'") from None
    return av


def is_packet_codec(codec: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """True for a stream stored as compressed packets (h264, hevc, ffv1)."""
    return codec is not None and codec.get("name") in PACKET_CODECS


def input_format(shape: tuple[int, ...], pixel_format: str | None) -> str:
    """PyAV format of the stream's numpy frames: gray, bgr24/rgb24 or bgra/rgba."""
    channels = shape[3] if len(shape) == 4 else 1
    order = "rgb" if str(pixel_format or "bgr").lower().startswith("rgb") else "bgr"
    fmt = {1: "gray", 3: order + "24", 4: order + "a"}.get(channels)
    if fmt is None:
        raise ValueError(f"compressed video needs 1, 3 or 4 channels, stream has {channels}")
    return fmt


def _int(name: str, key: str, value: Any, lo: int, hi: int) -> int:
    return int_in(f"{name} {key}", value, lo, hi)


def _queue(shape: tuple[int, ...]) -> int:
    """Default encoder queue: 120 frames, at most 256 MB of them (1080p RGB: 43)."""
    frame = int(np.prod([abs(int(d)) for d in shape[1:]]))
    return max(8, min(120, (256 << 20) // max(1, frame)))


def _bitrate(name: str, value: Any) -> int:
    """Bits per second from an int or a string like '2M' / '800k'."""
    text = str(value).strip().lower() if isinstance(value, str) else None
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1) if text else 1
    try:
        bps = int(float(text[:-1] if scale > 1 else text) * scale) if text else value
    except ValueError:
        bps = None
    if isinstance(bps, bool) or not isinstance(bps, int) or bps < 1000:
        raise ValueError(f"{name} bitrate={short_repr(value)}: give bits/s >= 1000 "
                         "(an int, or a string like '2M' or '800k')")
    return bps


def normalize_packet_codec(spec: dict[str, Any], shape: tuple[int, ...],
                           pixel_format: str | None = None) -> dict[str, Any]:
    """Checked codec entry for the manifest (defaults filled, encoder chosen); a bad
    value raises a one-line ValueError naming it."""
    name = ALIASES.get(str(spec["name"]).lower(), str(spec["name"]).lower())
    unknown = [k for k in spec if k not in _KEYS]
    if unknown:
        raise ValueError(f"{name} codec: unknown parameter {short_repr(unknown[0])}"
                         f"{did_you_mean(unknown[0], _KEYS)}; use {', '.join(_KEYS[1:])}")
    cpu, _dec, pix_default, crf_max, crf_default = PACKET_CODECS[name]
    if len(shape) not in (3, 4):
        raise ValueError(f"{name} codec needs video frames (h, w[, c]), stream shape {shape}")
    inp = input_format(shape, pixel_format)
    lossless = flag(f"{name} lossless", spec.get("lossless", False))
    out: dict[str, Any] = {"name": name, "input": inp,
                           # FFV1 is intra-only when every frame is a keyframe: a GOP > 1
                           # only carries its range coder's state from frame to frame
                           "gop": _int(name, "gop", spec.get("gop", 1 if name == "ffv1" else 30),
                                       1, 10_000),
                           "threads": _int(name, "threads", spec.get("threads", 1), 0, 64),
                           "queue": _int(name, "queue", spec.get("queue", _queue(shape)),
                                         1, 100_000)}
    if name == "ffv1":
        for key in ("preset", "crf", "bitrate"):
            if key in spec:
                raise ValueError(f"ffv1 is lossless and takes no {key} (got {short_repr(spec[key])})")
        encoder = "ffv1"
        pix = spec.get("pix_fmt") or {"gray": "gray", "bgra": "bgra", "rgba": "bgra"}.get(inp, "bgr0")
    else:
        if lossless and name == "h264" and inp != "gray":
            cpu, pix_default = "libx264rgb", ("rgb24" if inp.startswith("rgb") else "bgr24")
        elif lossless or inp == "gray":
            pix_default = "yuv444p" if lossless and inp != "gray" else "gray"
        preset = spec.get("preset", "ultrafast")
        if preset not in PRESETS:
            raise ValueError(f"{name} preset={short_repr(preset)}: use one of {', '.join(PRESETS)}"
                             f"{did_you_mean(preset, PRESETS)}")
        out["preset"] = preset
        if "crf" in spec and "bitrate" in spec:
            raise ValueError(f"{name}: give crf or bitrate, not both")
        if lossless and ("crf" in spec or "bitrate" in spec):
            raise ValueError(f"{name} lossless=True sets the quality; drop crf/bitrate")
        if "bitrate" in spec:
            out["bitrate"] = _bitrate(name, spec["bitrate"])
        else:
            assert crf_max is not None               # (h264 and hevc have a crf range)
            out["crf"] = 0 if lossless else _int(name, "crf", spec.get("crf", crf_default),
                                                 0, crf_max)
        encoder = _choose_encoder(name, cpu, spec.get("encoder", "auto"), lossless)
        pix = spec.get("pix_fmt") or pix_default
    if lossless:
        out["lossless"] = True
    av = av_module()
    try:
        formats = [f.name for f in av.codec.Codec(encoder, "w").video_formats or ()]
    except Exception as exc:  # noqa: BLE001 - UnknownCodecError: not in this build
        raise ValueError(f"{name} encoder={short_repr(encoder)}: {hardware_failure(encoder, exc)}; "
                         "use encoder='auto' or 'cpu'") from None
    if formats and pix not in formats:
        raise ValueError(f"{name} pix_fmt={short_repr(pix)}: {encoder} takes "
                         f"{', '.join(formats[:12])}")
    h, w = shape[1], shape[2]
    if pix.endswith("420p") and (h % 2 or w % 2):
        raise ValueError(f"{name} pix_fmt {pix} needs an even frame size, stream is {w}x{h} "
                         "(use pix_fmt='yuv444p')")
    out.update(encoder=encoder, pix_fmt=pix)
    try:                          # opens with these settings; FFV1 keeps its headers here
        ctx = open_encoder(out, w, h, 30.0)
    except Exception as exc:      # noqa: BLE001 - FFmpeg's reason, on one line
        if encoder != cpu and spec.get("encoder", "auto") == "auto":
            log.info("%s: %s does not open at %dx%d (%s); encoding on the CPU with %s",
                     name, encoder, w, h, str(exc)[:80], cpu)
            return normalize_packet_codec({**spec, "encoder": "cpu"}, shape, pixel_format)
        why = hardware_failure(encoder, exc) if encoder != cpu else str(exc)[:200]
        raise ValueError(f"{name}: {encoder} does not open with {short_repr(spec)}: {why}"
                         + ("; use encoder='auto' (the CPU when no hardware encoder opens) "
                            "or 'cpu'" if encoder != cpu else "")) from None
    if ctx.extradata:
        out["extradata"] = bytes(ctx.extradata).hex()
    return out


def _choose_encoder(name: str, cpu: str, asked: Any, lossless: bool) -> str:
    """The encoder to use: a named one, the CPU one, or (auto) the first hardware encoder
    that opens on this machine, else the CPU one; logged either way."""
    if asked == "cpu" or (asked == "auto" and lossless):
        return cpu
    candidates = _HARDWARE[name] + (cpu,)
    if asked != "auto":
        if asked not in candidates and asked not in ("libx264rgb",):
            raise ValueError(f"{name} encoder={short_repr(asked)}: use auto, cpu or one of "
                             f"{', '.join(candidates)}")
        return asked
    reasons = []
    for hw in _HARDWARE[name]:
        if hw not in _probed:
            _probed[hw] = _probe(hw)
        if _probed[hw] is None:
            log.info("%s: using the hardware encoder %s", name, hw)
            return hw
        reasons.append(f"{hw}: {_probed[hw]}")
    log.info("%s: no hardware encoder here (%s); encoding on the CPU with %s",
             name, "; ".join(reasons), cpu)
    return cpu


def _probe(encoder: str) -> str | None:
    """None when ``encoder`` opens and encodes a small frame, else the reason it did not."""
    try:
        av = av_module()
        ctx = av.CodecContext.create(encoder, "w")
        ctx.width, ctx.height, ctx.pix_fmt = 256, 256, "yuv420p"
        ctx.time_base = Fraction(1, 1000)
        ctx.open()
        frame = av.VideoFrame(256, 256, "yuv420p")
        frame.pts = 0
        ctx.encode(frame)
        ctx.encode(None)
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable here"
        return hardware_failure(encoder, exc)


def hardware_failure(encoder: str, exc: BaseException) -> str:
    """Why a hardware encoder did not open, in words: not in this FFmpeg build, or no
    device/driver for it here, with FFmpeg's own short reason."""
    if type(exc).__name__ == "UnknownCodecError":
        return "not in this PyAV/FFmpeg build"
    device = {"nvenc": "NVIDIA GPU and driver", "vaapi": "VAAPI device (/dev/dri)",
              "qsv": "Intel Quick Sync device"}.get(encoder.rsplit("_", 1)[-1], "device")
    reason = getattr(exc, "strerror", None) or str(exc).split(":")[0]
    return f"no usable {device} here (FFmpeg: {str(reason)[:60]})"


def faster_preset(preset: str | None) -> str | None:
    """The next faster x264/x265 preset (None at ultrafast)."""
    k = PRESETS.index(preset) if preset in PRESETS else 0
    return PRESETS[k - 1] if k > 0 else None


def open_encoder(codec: dict[str, Any], width: int, height: int, rate: float,
                 preset: str | None = None) -> Any:
    """An opened PyAV encoder context for ``codec`` (closed GOPs of ``gop`` frames, no
    B-frames, headers at each keyframe); ``preset`` overrides the codec's."""
    av = av_module()
    enc = codec["encoder"]
    ctx = av.CodecContext.create(enc, "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, codec["pix_fmt"]
    ctx.framerate = Fraction(rate).limit_denominator(1001) if rate > 0 else Fraction(30)
    # frames are numbered 0, 1, 2, ...: one tick of the time base per frame, so that the
    # rate control sees the true frame rate (1 ms ticks made x264's crf ~25 % smaller and
    # ~1 dB worse than the same crf in ffmpeg/PyAV)
    ctx.time_base = 1 / ctx.framerate
    gop = codec["gop"]
    ctx.gop_size = gop
    ctx.thread_count = codec.get("threads", 1)
    opts: dict[str, str] = {}
    if enc != "ffv1":
        ctx.max_b_frames = 0
    if "bitrate" in codec:
        ctx.bit_rate = int(codec["bitrate"])
    preset = preset or codec.get("preset")
    if enc == "ffv1":             # slices (with CRCs) decode on parallel threads
        opts.update(level="3", slices="4", slicecrc="1")
    if enc.startswith("libx26"):
        assert preset is not None            # (normalize_codec gives x264/x265 one)
        key = "x265-params" if enc == "libx265" else "x264-params"
        extra = ":log-level=error" if enc == "libx265" else ""
        lossless = ":lossless=1" if enc == "libx265" and codec.get("lossless") else ""
        opts.update(preset=preset, **{key: f"repeat-headers=1:keyint={gop}:min-keyint={gop}"
                                           f":scenecut=0:bframes=0:open-gop=0{lossless}{extra}"})
        if "crf" in codec and not lossless:
            opts["crf"] = str(codec["crf"])
    elif enc.endswith("_nvenc"):
        opts.update(preset="p1" if preset in PRESETS[:3] else "p4", bf="0", **{"forced-idr": "1"})
        if "crf" in codec:
            opts.update(rc="vbr", cq=str(codec["crf"]))
    elif "crf" in codec:          # vaapi / qsv: a constant quantizer
        opts["qp"] = str(codec["crf"])
    ctx.options = opts
    ctx.open()
    return ctx


def decoder_threads(codec: dict[str, Any]) -> int:
    """Threads of a reading decoder: ``ACQFLOW_VIDEO_DECODE_THREADS``, else 2 where there
    are 2 cores (h264/hevc: frame threads, a random 1080p frame in about 0.65x the time of
    one thread; FFV1: slice threads), else 1."""
    env = os.environ.get("ACQFLOW_VIDEO_DECODE_THREADS")
    if env:
        return int_in("ACQFLOW_VIDEO_DECODE_THREADS", int(env) if env.isdigit() else env, 1, 16)
    return min(2, os.cpu_count() or 1)


def frame_lag(codec: dict[str, Any], threads: int) -> int:
    """Packets a decoder of ``threads`` takes before it gives a frame out: ``threads - 1``
    for the long-GOP codecs (frame threads decode consecutive frames in parallel), 0 for
    FFV1 (intra-only: its slices decode in parallel within the frame)."""
    return 0 if codec["name"] == "ffv1" else max(0, threads - 1)


def open_decoder(codec: dict[str, Any], width: int, height: int, threads: int = 1) -> Any:
    """An opened PyAV decoder for a stored packet stream, on ``threads`` threads (frame
    threads, or slice threads for FFV1: see :func:`frame_lag`)."""
    av = av_module()
    ctx = av.CodecContext.create(PACKET_CODECS[codec["name"]][1], "r")
    ctx.thread_count = threads
    if threads > 1:
        ctx.thread_type = "FRAME" if frame_lag(codec, threads) else "SLICE"
    ctx.width, ctx.height = width, height
    if codec.get("extradata"):
        ctx.extradata = bytes.fromhex(codec["extradata"])
    ctx.open()
    return ctx
