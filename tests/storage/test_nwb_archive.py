"""Archive-grade NWB: session/subject/device metadata, electrodes table, ElectricalSeries in
volts, checked by nwbinspector; one-line metadata errors naming the bad key; the CLI flag."""
import datetime as dt

import numpy as np
import pytest

from acqflow.storage import RecordingWriter, open_recording
from acqflow.storage.cli import main as rec_main
from acqflow.testing import examples
from tests.storage.source import NCH, T0, make_recording

pynwb = pytest.importorskip("pynwb")
nwbinspector = pytest.importorskip("nwbinspector")

META = """
session_description: Resting-state EEG, eyes closed, 2 minutes
session_start_time: 2023-11-14T22:13:00+00:00
session_id: S01
experimenter: ["Doe, Jane"]
institution: University of Somewhere
lab: Acquisition Lab
experiment_description: Reference recording for the acqflow NWB export tests.
keywords: [EEG, resting state]
subject:
  subject_id: P01
  species: Homo sapiens
  sex: F
  age: P30Y
  description: healthy adult volunteer
device:
  name: amp1
  description: 16-channel EEG amplifier
  manufacturer: ACME
electrode_group:
  description: 10-20 cap
  location: scalp
electrodes:
  ch0: {location: Fz, x: 0.0, y: 0.5, z: 0.8}
streams:
  sig: {description: raw EEG, comments: average reference}
"""


def inspect(path):
    return [m for m in nwbinspector.inspect_nwbfile(nwbfile_path=str(path))]


@pytest.fixture
def rec(tmp_path):
    make_recording(tmp_path / "r", 40)
    return open_recording(tmp_path / "r")


def test_archive_metadata_electrodes_and_nwbinspector(rec, tmp_path):
    from acqflow.storage.export_nwb import to_nwb
    (tmp_path / "meta.yaml").write_text(META)
    sig = rec["sig"]
    to_nwb(list(rec.streams.values()), tmp_path / "a.nwb", metadata=tmp_path / "meta.yaml",
           progress=False)
    with pynwb.NWBHDF5IO(str(tmp_path / "a.nwb"), "r") as io:
        f = io.read()
        assert f.session_description.startswith("Resting-state") and f.session_id == "S01"
        assert f.session_start_time == dt.datetime(2023, 11, 14, 22, 13, tzinfo=dt.timezone.utc)
        assert list(f.experimenter) == ["Doe, Jane"] and f.lab == "Acquisition Lab"
        assert f.institution == "University of Somewhere" and list(f.keywords) == ["EEG", "resting state"]
        s = f.subject
        assert (s.subject_id, s.species, s.sex, s.age) == ("P01", "Homo sapiens", "F", "P30Y")
        assert f.devices["amp1"].model.manufacturer == "ACME"
        table = f.electrodes.to_dataframe()
        assert list(table["channel_name"]) == [f"ch{c}" for c in range(NCH)]
        assert table["location"].iloc[0] == "Fz" and set(table["location"].iloc[1:]) == {"scalp"}
        assert list(table["stream"]) == ["sig"] * NCH and "x" not in table  # x only for ch0: dropped
        es = f.acquisition["sig"]
        assert isinstance(es, pynwb.ecephys.ElectricalSeries)
        assert es.unit == "volts" and es.conversion == 1e-6 and es.rate == sig.sample_rate
        assert es.description == "raw EEG" and es.comments == "average reference"
        assert list(es.electrodes.data[:]) == list(range(NCH))
        assert es.electrodes.table is f.electrodes
        np.testing.assert_array_equal(es.data[()], sig.read(fill="auto"))
        # session_start_time is earlier than the data: the series starts later
        start = dt.datetime(2023, 11, 14, 22, 13, tzinfo=dt.timezone.utc).timestamp()
        assert es.starting_time == pytest.approx(T0 - start, abs=1e-6)
        assert len(f.events["ev"].to_dataframe()) == len(rec["ev"])
    found = inspect(tmp_path / "a.nwb")
    bad = [f"{m.importance.name} {m.check_function_name}: {m.message}" for m in found
           if m.importance.name in ("CRITICAL", "BEST_PRACTICE_VIOLATION")]
    assert not bad, bad


def test_positions_and_non_voltage_streams(tmp_path):
    """A voltage stream with positions in channel_info, an accelerometer as TimeSeries."""
    from acqflow.storage.export_nwb import to_nwb
    eeg = {"streamtype": "analogsignal", "dtype": "float32", "shape": (-1, 2), "sample_rate": 250.0,
           "channel_info": [{"name": "Cz", "units": "uV", "x": 0.0, "y": 0.0, "z": 1.0},
                            {"name": "Pz", "units": "uV", "x": 0.0, "y": -0.5, "z": 0.8}]}
    acc = {"streamtype": "analogsignal", "dtype": "float64", "shape": (-1, 3), "sample_rate": 250.0,
           "units": "g", "channel_info": [{"name": n} for n in "xyz"]}
    with RecordingWriter(tmp_path / "r") as w:
        w.add_stream("eeg", eeg)
        w.add_stream("acc", acc)
        for k in range(1, 5):
            w.write("eeg", np.full((250, 2), k, "float32"), 250 * k, T0 + k)
            w.write("acc", np.full((250, 3), k, "float64"), 250 * k, T0 + k)
    rec = open_recording(tmp_path / "r")
    meta = {"subject": {"subject_id": "P2", "species": "Homo sapiens", "sex": "M", "age": "P40Y"},
            "session_description": "two streams", "experimenter": "Doe, John",
            "institution": "U", "lab": "L", "keywords": ["test"],
            "experiment_description": "positions from channel info"}
    to_nwb(list(rec.streams.values()), tmp_path / "b.nwb", metadata=meta, progress=False)
    with pynwb.NWBHDF5IO(str(tmp_path / "b.nwb"), "r") as io:
        f = io.read()
        table = f.electrodes.to_dataframe()
        assert list(table["channel_name"]) == ["Cz", "Pz"] and list(table["y"]) == [0.0, -0.5]
        assert set(table["location"]) == {"unknown"}
        assert isinstance(f.acquisition["eeg"], pynwb.ecephys.ElectricalSeries)
        acc_ts = f.acquisition["acc"]
        assert type(acc_ts) is pynwb.TimeSeries and acc_ts.unit == "g"
        assert f.session_start_time.timestamp() == pytest.approx(T0 + 1 - 249 / 250, abs=1e-6)
    assert not [m for m in inspect(tmp_path / "b.nwb") if m.importance.name == "CRITICAL"]


@pytest.mark.parametrize("meta, message", [
    ({"subject": {"sex": "female"}}, "NWB metadata: subject.sex: must be M, F, U or O, got 'female'"),
    ({"subject": {"age": "30 years"}}, "NWB metadata: subject.age: must be an ISO 8601 duration"),
    ({"subject": {"spcies": "Homo sapiens"}}, "NWB metadata: subject.spcies: unknown key; known:"),
    ({"experimentr": "x"}, "NWB metadata: experimentr: unknown key; known:"),
    ({"session_start_time": "2023-11-14T22:13:00"},
     "NWB metadata: session_start_time: 2023-11-14T22:13:00 has no time zone"),
    ({"session_start_time": "yesterday"}, "NWB metadata: session_start_time: not an ISO 8601 time"),
    ({"session_start_time": "2030-01-01T00:00:00+00:00"},
     "NWB metadata: session_start_time: 2030-01-01T00:00:00+00:00 is after the first exported"),
    ({"electrodes": {"Fz": {"location": "Fz"}}}, "NWB metadata: electrodes.Fz: no exported channel"),
    ({"electrodes": {"ch1": {"x": "left"}}}, "NWB metadata: electrodes.ch1.x: must be a number"),
    ({"streams": {"nope": {}}}, "NWB metadata: streams.nope: unknown key"),
    ({"keywords": []}, "NWB metadata: keywords: must be text or a list of text"),
    ({"lab": 3}, "NWB metadata: lab: must be non-empty text, got 3"),
    ({"streams": {"ev": {"electrical": True}}}, "NWB metadata: streams.ev.electrical: event stream"),
    ({"streams": {"sig": {"electrical": "yes"}}}, "NWB metadata: streams.sig.electrical: must be true"),
    ({"device": {"name": ""}}, "NWB metadata: device.name: must be non-empty text"),
])
def test_metadata_errors_are_one_line_and_name_the_key(rec, tmp_path, meta, message):
    from acqflow.storage.export_nwb import to_nwb
    with pytest.raises(ValueError) as err:
        to_nwb([rec["sig"], rec["ev"]], tmp_path / "x.nwb", metadata=meta, progress=False)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    assert not (tmp_path / "x.nwb").exists()                # nothing written


def test_cli_metadata_flag(rec, tmp_path, capsys):
    (tmp_path / "meta.yaml").write_text(META)
    out = tmp_path / "cli.nwb"
    assert rec_main(["export", str(rec.url), "all", "--out", str(out), "--metadata",
                     str(tmp_path / "meta.yaml"), "-q"]) == 0
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        f = io.read()
        assert f.subject.subject_id == "P01" and "sig" in f.electrodes.to_dataframe()["stream"].values
    (tmp_path / "bad.yaml").write_text("subject:\n  sex: [F\n")
    assert rec_main(["export", str(rec.url), "sig", "--out", str(tmp_path / "y.nwb"),
                     "--metadata", str(tmp_path / "bad.yaml"), "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("acqflow rec export: NWB metadata: bad.yaml is not valid YAML at line")
    assert "\n" not in err
    assert rec_main(["export", str(rec.url), "sig", "--out", str(tmp_path / "y.npy"),
                     "--metadata", str(tmp_path / "meta.yaml"), "--fill", "auto", "-q"]) == 2
    assert "--metadata is for .nwb" in capsys.readouterr().err


def _metadata_strategy():
    from hypothesis import strategies as st
    from acqflow.storage import nwb_meta
    keys = st.sampled_from(nwb_meta.SESSION_KEYS + nwb_meta.SUBJECT_KEYS + nwb_meta.ELECTRODE_KEYS +
                           ("subject", "device", "electrode_group", "electrodes", "streams",
                            "sig", "ch0", "sex", "x")) | st.text(max_size=8)
    leaves = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) |
              st.text(max_size=12) | st.sampled_from(["F", "P30Y", "2023-11-14T22:13:00+00:00",
                                                      "2023-11-14", "Homo sapiens"]) |
              st.datetimes(timezones=st.none() | st.just(dt.timezone.utc)))
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) |
                        st.dictionaries(keys, inner, max_size=4), max_leaves=12)


def test_metadata_checker_fuzzed():
    """Whatever the YAML holds: accepted, or one ValueError line starting 'NWB metadata:'."""
    from hypothesis import given, settings, HealthCheck
    from hypothesis import strategies as st
    from acqflow.storage.nwb_meta import check_metadata

    @settings(max_examples=examples(200), deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(_metadata_strategy().filter(lambda k: isinstance(k, str)) | st.text(),
                           _metadata_strategy(), max_size=5))
    def run(meta):
        try:
            check_metadata(meta, {"sig": ["ch0", "ch1"], "ev": []})
        except ValueError as exc:
            assert str(exc).startswith("NWB metadata: ") and "\n" not in str(exc), str(exc)

    run()
