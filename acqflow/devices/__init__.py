"""Source nodes: synthetic signals, audio, cameras (decoded, or as compressed packets), LSL inlets,
BrainFlow boards and event markers.

Importing this package never imports sounddevice, cv2, pylsl or brainflow: each device
imports its library when configured, and names the pip extra if it is missing.
"""
from .brainflow import BrainFlowBoard
from .audio import AUDIO_DTYPES, AudioDevice, list_audio_devices
from .camera import PIXEL_FORMATS, Camera
from .packetcamera import PacketCamera
from .events import EventSource, event_dtype
from .lsl_inlet import LSLInlet
from .synthetic import WAVEFORMS, SyntheticSignal
from .player import Player

__all__ = ["SyntheticSignal", "AudioDevice", "Camera", "PacketCamera", "LSLInlet", "EventSource", "Player",
           "BrainFlowBoard",
           "list_audio_devices", "event_dtype", "AUDIO_DTYPES", "PIXEL_FORMATS", "WAVEFORMS"]
