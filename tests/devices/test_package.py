"""Package rules: lazy optional imports, clear ImportErrors, registry.

Layering: the import-linter contracts in pyproject.toml (tests/test_lint.py).
"""
import acqflow
import acqflow.devices
import acqflow.nodes.lsl_outlet
from acqflow.testing import run_python

def test_import_needs_no_optional_library_and_errors_name_the_extra():
    code = r"""
import acqflow.devices, acqflow.nodes.lsl_outlet
from acqflow.devices import AudioDevice, Camera, LSLInlet, SyntheticSignal
from acqflow.nodes.lsl_outlet import LSLOutlet
SyntheticSignal().configure(channels=1)           # needs nothing optional
for cls, kw in ((AudioDevice, {"input_device": 0}), (Camera, {"device": 0}),
                (LSLInlet, {"name": "x"}), (LSLOutlet, {})):
    try:
        cls().configure(**kw)
    except ImportError as exc:
        print(exc)
"""
    lines = run_python(code, block=["cv2", "sounddevice", "pylsl"]).stdout.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("AudioDevice needs the 'sounddevice' package: pip install acqflow[audio]")
    assert lines[1].startswith("Camera needs the 'cv2' package: pip install acqflow[video]")
    assert lines[2].startswith("LSL bridge needs the 'pylsl' package: pip install acqflow[lsl]")
    assert lines[3].startswith("LSL bridge needs the 'pylsl' package: pip install acqflow[lsl]")


def test_node_types_registered():
    types = acqflow.node_types()
    for name in ("SyntheticSignal", "AudioDevice", "Camera", "LSLInlet", "EventSource", "LSLOutlet"):
        assert name in types
        assert types[name].__name__ == name
