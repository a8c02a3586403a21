"""Archive metadata for NWB export: load (YAML file or dict), check, and turn into pynwb
arguments.  Every error is one line naming the bad key (``subject.sex``, ``electrodes.Fz.x``).

Keys (all optional; see docs/recording.md "NWB metadata"):

* session: ``session_description``, ``session_start_time`` (ISO 8601 with a time zone),
  ``identifier``, ``session_id``, ``experimenter`` (text or list), ``institution``, ``lab``,
  ``experiment_description``, ``keywords`` (list), ``related_publications`` (list),
  ``notes``, ``protocol``, ``pharmacology``, ``surgery``, ``virus``, ``stimulus_notes``,
  ``data_collection``;
* ``subject``: ``subject_id``, ``species``, ``sex`` (M, F, U or O), ``age`` (ISO 8601
  duration such as ``P30Y``), ``age__reference``, ``date_of_birth``, ``description``,
  ``genotype``, ``strain``, ``weight``;
* ``device``: ``name``, ``description``, ``manufacturer``, ``model_number``, ``model_name``,
  ``serial_number`` (the amplifier the electrodes are connected to);
* ``electrode_group``: ``description``, ``location`` (defaults for each voltage stream's group);
* ``electrodes``: per channel name: ``location``, ``x``, ``y``, ``z``, ``imp``, ``filtering``,
  ``rel_x``, ``rel_y``, ``rel_z``, ``reference``;
* ``streams``: per stream name: ``description`` (text), ``electrical`` (bool: force or refuse
  an ElectricalSeries), ``comments``.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any, Iterable

from ..dataflow.shortrepr import short_repr

__all__ = ["load_metadata", "check_metadata", "VOLT_FACTORS", "SESSION_KEYS", "SUBJECT_KEYS"]

# units of a voltage signal -> factor to volts (NWB stores ElectricalSeries in volts)
VOLT_FACTORS = {"V": 1.0, "mV": 1e-3, "uV": 1e-6, "µV": 1e-6, "μV": 1e-6, "nV": 1e-9,
                "volt": 1.0, "volts": 1.0}

_TEXT = ("session_description", "identifier", "session_id", "institution", "lab",
         "experiment_description", "notes", "protocol", "pharmacology", "surgery", "virus",
         "stimulus_notes", "data_collection")
_LISTS = ("experimenter", "keywords", "related_publications")
SESSION_KEYS = _TEXT + _LISTS + ("session_start_time",)
SUBJECT_KEYS = ("subject_id", "species", "sex", "age", "age__reference", "date_of_birth",
                "description", "genotype", "strain", "weight")
DEVICE_KEYS = ("name", "description", "manufacturer", "model_number", "model_name", "serial_number")
GROUP_KEYS = ("description", "location")
ELECTRODE_KEYS = ("location", "x", "y", "z", "imp", "filtering", "rel_x", "rel_y", "rel_z",
                  "reference")
STREAM_KEYS = ("description", "electrical", "comments")
_SECTIONS = {"subject": SUBJECT_KEYS, "device": DEVICE_KEYS, "electrode_group": GROUP_KEYS}
_DURATION = re.compile(r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                       r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")


def _fail(key: str, problem: str) -> None:
    if not key.isprintable() or len(key) > 80:        # a strange key is quoted, never raw
        key = short_repr(key, 80)
    raise ValueError(f"NWB metadata: {key}: {problem}")


def load_metadata(source: str | os.PathLike | dict | None) -> dict[str, Any]:
    """A metadata dict from a dict, a YAML file path, or None (empty)."""
    if source is None:
        return {}
    if isinstance(source, dict):
        return dict(source)
    import yaml
    path = Path(source)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"NWB metadata: cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ValueError(f"NWB metadata: {path.name} is not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"NWB metadata: {path.name} must hold a mapping of keys, "
                         f"got {type(data).__name__}")
    return data


def _known(key: str, mapping: Any, allowed: Iterable[str]) -> dict:
    if not isinstance(mapping, dict):
        _fail(key, f"must be a mapping, got {short_repr(mapping)}")
    allowed = tuple(allowed)
    for k in mapping:
        if k not in allowed:
            _fail(f"{key}.{k}" if key else str(k), f"unknown key; known: {', '.join(allowed)}")
    return mapping


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(key, f"must be non-empty text, got {short_repr(value)}")
    return value


def _time(key: str, value: Any) -> dt.datetime:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):   # a day: 00:00 UTC
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            _fail(key, f"not an ISO 8601 time: {short_repr(value)}")
    if not isinstance(value, dt.datetime):
        _fail(key, f"must be an ISO 8601 time, got {short_repr(value)}")
    if value.tzinfo is None:
        _fail(key, f"{value.isoformat()} has no time zone; add one, e.g. +00:00")
    return value


def check_metadata(meta: dict[str, Any], channels: dict[str, list[str]]) -> dict[str, Any]:
    """Checked and normalised metadata; ``channels`` maps each exported stream to its
    channel names (to check ``streams`` and ``electrodes`` keys)."""
    _known("", meta, SESSION_KEYS + tuple(_SECTIONS) + ("electrodes", "streams"))
    out: dict[str, Any] = {}
    for key in _TEXT:
        if key in meta:
            out[key] = _text(key, meta[key])
    for key in _LISTS:
        if key in meta:
            value = [meta[key]] if isinstance(meta[key], str) else meta[key]
            if not isinstance(value, list) or not value:
                _fail(key, f"must be text or a list of text, got {short_repr(meta[key])}")
            out[key] = [_text(f"{key}[{i}]", v) for i, v in enumerate(value)]
    if "session_start_time" in meta:
        out["session_start_time"] = _time("session_start_time", meta["session_start_time"])
    for section, allowed in _SECTIONS.items():
        if section in meta:
            values = dict(_known(section, meta[section], allowed))
            for k, v in values.items():
                if k == "date_of_birth":
                    values[k] = _time(f"{section}.{k}", v)
                elif k == "weight" and isinstance(v, (int, float)) and not isinstance(v, bool):
                    values[k] = float(v)
                else:
                    values[k] = _text(f"{section}.{k}", v)
            out[section] = values
    subject = out.get("subject", {})
    if "sex" in subject and subject["sex"] not in ("M", "F", "U", "O"):
        _fail("subject.sex", f"must be M, F, U or O, got {short_repr(subject['sex'])}")
    if "age" in subject and not all(_DURATION.match(p) for p in subject["age"].split("/")):
        _fail("subject.age", f"must be an ISO 8601 duration such as 'P30Y' or 'P90D', "
                             f"got {short_repr(subject['age'])}")
    if "age__reference" in subject and subject["age__reference"] not in ("birth", "gestational"):
        _fail("subject.age__reference", f"must be 'birth' or 'gestational', "
                                        f"got {short_repr(subject['age__reference'])}")
    streams = _known("streams", meta.get("streams", {}), channels)
    out["streams"] = {}
    for name, entry in streams.items():
        entry = dict(_known(f"streams.{name}", entry, STREAM_KEYS))
        for k, v in entry.items():
            if k == "electrical" and not isinstance(v, bool):
                _fail(f"streams.{name}.electrical", f"must be true or false, got {short_repr(v)}")
            if k != "electrical":
                _text(f"streams.{name}.{k}", v)
        out["streams"][name] = entry
    names = sorted({c for chans in channels.values() for c in chans})
    electrodes = meta.get("electrodes", {})
    if not isinstance(electrodes, dict):
        _fail("electrodes", f"must map channel names to their fields, got {short_repr(electrodes)}")
    out["electrodes"] = {}
    for name, entry in electrodes.items():
        if name not in names:
            _fail(f"electrodes.{name}", f"no exported channel has this name (channels: "
                                        f"{short_repr(', '.join(names), 80)})")
        entry = dict(_known(f"electrodes.{name}", entry, ELECTRODE_KEYS))
        for k, v in entry.items():
            if k in ("x", "y", "z", "rel_x", "rel_y", "rel_z", "imp"):
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    _fail(f"electrodes.{name}.{k}", f"must be a number, got {short_repr(v)}")
                entry[k] = float(v)
            else:
                _text(f"electrodes.{name}.{k}", v)
        out["electrodes"][name] = entry
    return out
