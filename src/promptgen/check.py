"""Check an XTuner conversation dataset before training, and find records it shares with a test file.

With ``dataset_map_fn=None`` XTuner trains on records of the form
``{"conversation": [{"system": str, "input": str, "output": str}, ...]}``.
It loads the file with Hugging Face ``datasets``, which builds an Arrow table,
so a key must keep one JSON type in every record ("changed from string to
number" is Arrow's error when it does not).

JSON Lines files are read line by line. A file whose first non-blank character
is ``[`` is one JSON array and is read into memory whole. Duplicates and
overlaps are found through 16-byte hashes, so memory grows with the number of
records, not with their text.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Literal, Optional

from promptgen.errors import PromptgenError

Severity = Literal["error", "warning"]
Layout = Literal["jsonl", "json"]

# Problems of one kind beyond this many are counted, not listed.
MAX_PROBLEMS_PER_KIND = 5
# Examples kept for duplicates and for records shared with the --against file.
MAX_EXAMPLES = 3
# Bytes read to decide between a JSON array and JSON Lines.
_SNIFF_BYTES = 64 * 1024
_PREVIEW_CHARS = 60

TURN_KEYS = ("system", "input", "output")

# UTF-32 LE must be tested before UTF-16 LE: its byte order mark starts with the same two bytes.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


class DatasetError(PromptgenError):
    """A dataset file that cannot be opened at all (missing, a folder, unreadable)."""


@dataclass(frozen=True)
class Location:
    """Position of a record: its 1-based line, and its 0-based index when the file is a JSON array."""

    line: int
    index: Optional[int] = None

    def describe(self) -> str:
        if self.index is None:
            return f"line {self.line}"
        return f"line {self.line} (item {self.index})"


@dataclass(frozen=True)
class Problem:
    """One finding. ``location`` is None for a finding about the whole file."""

    severity: Severity
    kind: str
    message: str
    location: Optional[Location] = None

    def format(self) -> str:
        """Return ``LINE: severity: message``, with ``file`` in place of the line for a whole-file problem."""
        if self.location is None:
            where = "file"
        elif self.location.index is None:
            where = str(self.location.line)
        else:
            where = f"{self.location.line} (item {self.location.index})"
        return f"{where}: {self.severity}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.location.line if self.location else None,
            "index": self.location.index if self.location else None,
            "severity": self.severity,
            "kind": self.kind,
            "message": self.message,
        }


@dataclass(frozen=True)
class LengthStats:
    """Maximum and 95th percentile (nearest rank) of text lengths in characters."""

    max: int
    p95: int

    def to_dict(self) -> dict[str, int]:
        return {"max": self.max, "p95": self.p95}


@dataclass(frozen=True)
class Repeat:
    """A record (or an input) at ``location`` that already appeared at ``first``."""

    location: Location
    first: Location

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.location.line, "index": self.location.index, "first_line": self.first.line, "first_index": self.first.index}


@dataclass(frozen=True)
class DatasetStats:
    records: int
    turns: int
    empty_outputs: int
    duplicate_records: int
    duplicate_inputs: int
    input_length: LengthStats
    output_length: LengthStats
    duplicate_record_examples: tuple[Repeat, ...] = ()
    duplicate_input_examples: tuple[Repeat, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "turns": self.turns,
            "empty_outputs": self.empty_outputs,
            "duplicate_records": self.duplicate_records,
            "duplicate_inputs": self.duplicate_inputs,
            "input_length": self.input_length.to_dict(),
            "output_length": self.output_length.to_dict(),
            "duplicate_record_examples": [repeat.to_dict() for repeat in self.duplicate_record_examples],
            "duplicate_input_examples": [repeat.to_dict() for repeat in self.duplicate_input_examples],
        }


@dataclass(frozen=True)
class SharedExample:
    """A record of the --against file whose first input also opens a record of the dataset."""

    other: Location
    dataset: Location
    input_preview: str
    same_record: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "other_line": self.other.line,
            "other_index": self.other.index,
            "dataset_line": self.dataset.line,
            "dataset_index": self.dataset.index,
            "input": self.input_preview,
            "same_record": self.same_record,
        }


@dataclass(frozen=True)
class Overlap:
    """Records and first inputs of the --against file that also occur in the dataset (exact text).

    ``unreadable`` counts the lines (or the array) of the --against file that are not valid JSON.
    """

    other: Path
    other_records: int
    shared_records: int
    shared_inputs: int
    unreadable: int
    examples: tuple[SharedExample, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.other),
            "records": self.other_records,
            "shared_records": self.shared_records,
            "shared_inputs": self.shared_inputs,
            "unreadable": self.unreadable,
            "examples": [example.to_dict() for example in self.examples],
        }


@dataclass(frozen=True)
class CheckReport:
    """Everything ``promptgen check`` found in one dataset file."""

    path: Path
    layout: Layout
    problems: tuple[Problem, ...]
    omitted: dict[str, int]
    errors: int
    warnings: int
    stats: DatasetStats
    overlap: Optional[Overlap] = None

    @property
    def ok(self) -> bool:
        """True when XTuner can load the file as it is; warnings are allowed."""
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "layout": self.layout,
            "ok": self.ok,
            "errors": self.errors,
            "warnings": self.warnings,
            "problems": [problem.to_dict() for problem in self.problems],
            "omitted": dict(self.omitted),
            "stats": self.stats.to_dict(),
            "overlap": self.overlap.to_dict() if self.overlap else None,
        }


class ProblemLog:
    """Collects problems, listing at most ``max_per_kind`` of each kind and counting the rest."""

    def __init__(self, max_per_kind: int = MAX_PROBLEMS_PER_KIND) -> None:
        self.max_per_kind = max_per_kind
        self.problems: list[Problem] = []
        self.kind_counts: Counter[str] = Counter()
        self.errors = 0
        self.warnings = 0

    def add(self, severity: Severity, kind: str, message: str, location: Optional[Location] = None) -> None:
        if severity == "error":
            self.errors += 1
        else:
            self.warnings += 1
        self.kind_counts[kind] += 1
        if self.kind_counts[kind] <= self.max_per_kind:
            self.problems.append(Problem(severity, kind, message, location))

    def error(self, kind: str, message: str, location: Optional[Location] = None) -> None:
        self.add("error", kind, message, location)

    def warning(self, kind: str, message: str, location: Optional[Location] = None) -> None:
        self.add("warning", kind, message, location)

    def omitted(self) -> dict[str, int]:
        return {kind: count - self.max_per_kind for kind, count in self.kind_counts.items() if count > self.max_per_kind}


RecordCallback = Callable[[Location, Any], None]


# --- encodings ------------------------------------------------------------------------------


def _is_cjk_punctuation(char: str) -> bool:
    # CJK symbols and punctuation, and the full-width ASCII forms (not the half-width katakana after them).
    return "\u3000" <= char <= "\u303f" or "\uff01" <= char <= "\uff5e"


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _is_kana(char: str) -> bool:
    return "\u3040" <= char <= "\u30ff"


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _typical_gbk(char: str) -> bool:
    # GB2312 contains the common simplified characters. Big5 or Shift_JIS bytes read as GBK mostly land outside it.
    return _is_cjk_punctuation(char) or (_is_han(char) and _in_gb2312(char))


def _typical_big5(char: str) -> bool:
    return _is_cjk_punctuation(char) or _is_han(char)


def _typical_shift_jis(char: str) -> bool:
    return _is_cjk_punctuation(char) or _is_kana(char) or _is_han(char)


# Tried in this order. On equal scores the earlier one wins, because GBK bytes also decode as Big5.
_CJK_CANDIDATES: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("gbk", "GBK", _typical_gbk),
    ("big5", "Big5", _typical_big5),
    ("shift_jis", "Shift_JIS", _typical_shift_jis),
)
_MIN_TYPICAL_SHARE = 0.8


def _decode_prefix(data: bytes, codec: str) -> Optional[str]:
    """Decode ``data`` strictly but allow a character cut off at the end. Return None when the bytes are invalid."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        return decoder.decode(data, final=False)
    except UnicodeDecodeError:
        return None


def guess_encoding(data: bytes) -> Optional[str]:
    """Name the encoding that ``data`` (bytes that are not UTF-8) most likely uses, or None.

    Checks byte order marks, then UTF-16 without one (many NUL bytes), then
    GBK, Big5 and Shift_JIS by the share of characters typical for each, then
    Windows-1252.
    """
    for bom, _codec, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name
    if data and data.count(0) > len(data) // 4:
        even_nuls = data[0::2].count(0)
        odd_nuls = data[1::2].count(0)
        return "UTF-16BE" if even_nuls > odd_nuls else "UTF-16LE"
    best_name, best_share = None, 0.0
    for codec, name, is_typical in _CJK_CANDIDATES:
        text = _decode_prefix(data, codec)
        if text is None:
            continue
        non_ascii = [char for char in text if ord(char) > 0x7F]
        if not non_ascii:
            continue
        share = sum(1 for char in non_ascii if is_typical(char)) / len(non_ascii)
        if share >= _MIN_TYPICAL_SHARE and share > best_share:
            best_name, best_share = name, share
    if best_name is not None:
        return best_name
    # NOTE: EUC-KR Korean text decodes as common GB2312 characters, so it is reported as GBK.
    if _decode_prefix(data, "cp1252") is not None:
        return "Windows-1252"
    return None


# Python codec for each encoding name that guess_encoding returns.
_PYTHON_CODECS = {
    "GBK": "gbk",
    "Big5": "big5",
    "Shift_JIS": "shift_jis",
    "Windows-1252": "cp1252",
    "UTF-16BE": "utf-16-be",
    "UTF-16LE": "utf-16-le",
    "UTF-16": "utf-16",
    "UTF-32": "utf-32",
}


def _encoding_advice(encoding: Optional[str]) -> str:
    if encoding is None:
        return "the encoding is unknown: save the file as UTF-8"
    return f"the file looks like {encoding}: convert it to UTF-8, for example with iconv -f {encoding} -t UTF-8"


def _decode_line(raw: bytes, location: Location, log: ProblemLog) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        encoding = guess_encoding(raw)
        byte = raw[exc.start]
        log.error("not-utf8", f"not valid UTF-8 (byte 0x{byte:02X} at offset {exc.start}); {_encoding_advice(encoding)}", location)
        return raw.decode(_PYTHON_CODECS.get(encoding or "", "utf-8"), errors="replace")


def _decode_whole(data: bytes, log: ProblemLog) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        encoding = guess_encoding(data[line_start:line_start + _SNIFF_BYTES])
        message = f"not valid UTF-8 (byte 0x{data[exc.start]:02X} at offset {exc.start - line_start}); {_encoding_advice(encoding)}"
        log.error("not-utf8", message, Location(line))
        return data.decode(_PYTHON_CODECS.get(encoding or "", "utf-8"), errors="replace")


# --- reading --------------------------------------------------------------------------------


def _parse_line(text: str, location: Location, log: ProblemLog, on_record: RecordCallback) -> None:
    if not text.strip():
        log.warning("blank-line", "blank line: remove it, because some JSON Lines readers reject blank lines", location)
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = ""
        if exc.pos >= len(text.rstrip()):
            hint = "; the record seems to continue on the next line, but JSON Lines needs one whole record per line"
        log.error("invalid-json", f"invalid JSON: {exc.msg} at column {exc.colno}{hint}", location)
        return
    on_record(location, value)


def _read_jsonl_stream(handle: BinaryIO, log: ProblemLog, on_record: RecordCallback) -> None:
    for line_number, raw in enumerate(handle, start=1):
        location = Location(line_number)
        _parse_line(_decode_line(raw, location, log), location, log, on_record)


def _read_jsonl_text(text: str, log: ProblemLog, on_record: RecordCallback) -> None:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line_number, line in enumerate(lines, start=1):
        _parse_line(line, Location(line_number), log, on_record)


def _skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _read_json_array(text: str, log: ProblemLog, on_record: RecordCallback) -> None:
    """Walk a JSON array item by item, so that each record keeps the line it starts on."""
    decoder = json.JSONDecoder()
    position = _skip_whitespace(text, 0) + 1  # past the "["
    position = _skip_whitespace(text, position)
    line = text.count("\n", 0, position) + 1
    counted_to = position
    if text.startswith("]", position):
        return
    index = 0
    while True:
        line += text.count("\n", counted_to, position)
        counted_to = position
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            log.error("invalid-json", f"invalid JSON in item {index}: {exc.msg} at column {exc.colno}", Location(exc.lineno, index))
            return
        on_record(Location(line, index), value)
        position = _skip_whitespace(text, end)
        if text.startswith(",", position):
            position = _skip_whitespace(text, position + 1)
            index += 1
            continue
        end_location = Location(text.count("\n", 0, position) + 1)
        if text.startswith("]", position):
            if _skip_whitespace(text, position + 1) < len(text):
                log.error("invalid-json", "extra data after the closing ] of the array: remove it", end_location)
            return
        if position >= len(text):
            log.error("invalid-json", "the JSON array is not closed: add ] at the end", end_location)
        else:
            log.error("invalid-json", f"expected , or ] after item {index}: fix the JSON", end_location)
        return


def _require_file(path: Path, role: str) -> None:
    if not path.exists():
        raise DatasetError(f"{role} not found: {path}; check the path")
    if path.is_dir():
        raise DatasetError(f"{role} {path} is a folder: give the JSON Lines or JSON file inside it")


def _wide_codec(head: bytes) -> Optional[tuple[str, str]]:
    for bom, codec, name in _WIDE_BOMS:
        if head.startswith(bom):
            return codec, name
    return None


def read_records(path: Path, log: ProblemLog, on_record: RecordCallback) -> Layout:
    """Call ``on_record`` for every record of ``path`` in file order, and report reading problems to ``log``."""
    try:
        with path.open("rb") as handle:
            return _read_records(handle, log, on_record)
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}; check the file's permissions") from None


def _read_records(handle: BinaryIO, log: ProblemLog, on_record: RecordCallback) -> Layout:
    head = handle.read(_SNIFF_BYTES)
    wide = _wide_codec(head)
    if wide is not None:
        codec, name = wide
        message = f"the file is {name} with a byte order mark: convert it to UTF-8, for example with iconv -f {name} -t UTF-8"
        log.error("not-utf8", message, Location(1))
        text = (head + handle.read()).decode(codec, errors="replace")
        if text.lstrip().startswith("["):
            _read_json_array(text, log, on_record)
            return "json"
        _read_jsonl_text(text, log, on_record)
        return "jsonl"

    start = 0
    if head.startswith(codecs.BOM_UTF8):
        message = "the file starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without a BOM, because Python's json module rejects it"
        log.error("bom", message, Location(1))
        start = len(codecs.BOM_UTF8)
    if head[start:].lstrip().startswith(b"["):
        text = _decode_whole((head + handle.read())[start:], log)
        _read_json_array(text, log, on_record)
        return "json"
    handle.seek(start)
    _read_jsonl_stream(handle, log, on_record)
    return "jsonl"


# --- record checks --------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _with_article(json_type: str) -> str:
    return f"an {json_type}" if json_type[0] in "aeiou" else f"a {json_type}"


def _preview(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 3] + "..."


def _digest(text: str) -> bytes:
    # surrogatepass: JSON may carry lone surrogates ("\ud800"), which strict UTF-8 cannot encode.
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def record_digest(record: Any) -> bytes:
    """Hash a record independently of its key order and spacing."""
    return _digest(json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def first_input(record: Any) -> Optional[str]:
    """Return the "input" of the first turn, the text that opens the conversation, when it is a string."""
    if not isinstance(record, dict):
        return None
    conversation = record.get("conversation")
    if not isinstance(conversation, list) or not conversation or not isinstance(conversation[0], dict):
        return None
    text = conversation[0].get("input")
    return text if isinstance(text, str) else None


def _percentile_95(lengths: Counter[int]) -> int:
    total = sum(lengths.values())
    if total == 0:
        return 0
    rank = -(-95 * total // 100)  # nearest rank: ceil(0.95 * n), in integers
    seen = 0
    for length in sorted(lengths):
        seen += lengths[length]
        if seen >= rank:
            return length
    return max(lengths)


def _length_stats(lengths: Counter[int]) -> LengthStats:
    return LengthStats(max=max(lengths, default=0), p95=_percentile_95(lengths))


@dataclass
class _TypeTracker:
    """Remembers the first JSON type (and its location) seen for each key, ignoring nulls as Arrow does."""

    first_seen: dict[str, tuple[str, Location]] = field(default_factory=dict)

    def observe(self, key: str, json_type: str, location: Location) -> Optional[tuple[str, Location]]:
        """Record ``json_type`` for ``key``. Return the earlier (type, location) when it differs."""
        if json_type == "null":
            return None
        earlier = self.first_seen.setdefault(key, (json_type, location))
        return earlier if earlier[0] != json_type else None


class RecordChecker:
    """Checks records one at a time and gathers the statistics of the dataset."""

    def __init__(self, log: ProblemLog) -> None:
        self.log = log
        self.types = _TypeTracker()
        self.records = 0
        self.turns = 0
        self.empty_outputs = 0
        self.input_lengths: Counter[int] = Counter()
        self.output_lengths: Counter[int] = Counter()
        self.record_locations: dict[bytes, Location] = {}
        self.input_locations: dict[bytes, Location] = {}
        self.duplicate_records: list[Repeat] = []
        self.duplicate_inputs: list[Repeat] = []
        self.duplicate_record_count = 0
        self.duplicate_input_count = 0

    def __call__(self, location: Location, record: Any) -> None:
        self.records += 1
        self._remember(location, record)
        if not isinstance(record, dict):
            self.log.error(
                "not-object",
                f"record is {_with_article(_json_type(record))}, not an object: write each record as {{\"conversation\": [...]}}",
                location,
            )
            return
        self._check_keys(location, record, warn_unknown="conversation" in record)
        if "conversation" not in record:
            self._report_missing_conversation(location, record)
            return
        conversation = record["conversation"]
        if not isinstance(conversation, list):
            self.log.error(
                "conversation-type",
                f"\"conversation\" is {_with_article(_json_type(conversation))}, not an array of turns: write it as [{{\"input\": ..., \"output\": ...}}]",
                location,
            )
            return
        if not conversation:
            self.log.error("empty-conversation", "\"conversation\" is empty: give at least one turn with \"input\" and \"output\"", location)
            return
        for number, turn in enumerate(conversation, start=1):
            self._check_turn(location, number, turn)

    def _remember(self, location: Location, record: Any) -> None:
        digest = record_digest(record)
        first = self.record_locations.setdefault(digest, location)
        if first is not location:
            self.duplicate_record_count += 1
            if len(self.duplicate_records) < MAX_EXAMPLES:
                self.duplicate_records.append(Repeat(location, first))
        text = first_input(record)
        if text is None:
            return
        first = self.input_locations.setdefault(_digest(text), location)
        if first is not location:
            self.duplicate_input_count += 1
            if len(self.duplicate_inputs) < MAX_EXAMPLES:
                self.duplicate_inputs.append(Repeat(location, first))

    def _check_keys(self, location: Location, record: dict[str, Any], *, warn_unknown: bool) -> None:
        for key, value in record.items():
            if key == "conversation":
                continue
            if warn_unknown:
                self.log.warning("unknown-key", f"unknown key \"{key}\" in the record: XTuner ignores it", location)
            self._check_type_change(location, key, f"\"{key}\"", value)

    def _check_type_change(self, location: Location, key: str, label: str, value: Any) -> None:
        json_type = _json_type(value)
        earlier = self.types.observe(key, json_type, location)
        if earlier is not None:
            earlier_type, earlier_location = earlier
            self.log.error(
                "type-change",
                f"{label} is {_with_article(json_type)} here but {_with_article(earlier_type)} on {earlier_location.describe()}; "
                f"Arrow rejects a key whose type changes (\"changed from {earlier_type} to {json_type}\"): give it one type in every record",
                location,
            )

    def _report_missing_conversation(self, location: Location, record: dict[str, Any]) -> None:
        if "messages" in record:
            self.log.error(
                "openai-format",
                "record has OpenAI-style \"messages\", not \"conversation\": set dataset_map_fn=openai_map_fn "
                "(from xtuner.dataset.map_fns) in the config instead of dataset_map_fn=None, or convert the records",
                location,
            )
            return
        keys = ", ".join(f"\"{key}\"" for key in record) or "none"
        self.log.error("missing-conversation", f"record has no \"conversation\" (keys: {keys}): put the turns under \"conversation\"", location)

    def _check_turn(self, location: Location, number: int, turn: Any) -> None:
        self.turns += 1
        if not isinstance(turn, dict):
            self.log.error(
                "turn-type",
                f"turn {number} is {_with_article(_json_type(turn))}, not an object with \"input\" and \"output\"",
                location,
            )
            return
        for key in ("input", "output"):
            if key not in turn:
                self.log.error("missing-field", f"turn {number} has no \"{key}\": add it as a string", location)
            else:
                self._check_text(location, number, key, turn[key])
        if "system" in turn:
            self._check_system(location, number, turn["system"])
        for key, value in turn.items():
            if key not in TURN_KEYS:
                self.log.warning("unknown-key", f"unknown key \"{key}\" in turn {number}: XTuner ignores it", location)
                self._check_type_change(location, f"turn.{key}", f"\"{key}\" in turn {number}", value)
        self._count_lengths(turn)

    def _check_system(self, location: Location, number: int, value: Any) -> None:
        if number > 1:
            self.log.warning(
                "late-system",
                f"turn {number} has \"system\": XTuner puts it in the middle of the conversation, before that turn's input; "
                "usually only the first turn has one",
                location,
            )
        if value is None:
            self.log.warning("null-system", f"turn {number} \"system\" is null: XTuner treats it as no system text; leave the key out", location)
            return
        self._check_text(location, number, "system", value)

    def _check_text(self, location: Location, number: int, key: str, value: Any) -> None:
        json_type = _json_type(value)
        earlier = self.types.observe(f"turn.{key}", json_type, location)
        if json_type == "string":
            return
        if value is None:
            self.log.error("null-value", _null_message(number, key), location)
            return
        message = f"turn {number} \"{key}\" is {_with_article(json_type)} ({_preview(value)}), not a string"
        if earlier is not None and earlier[0] == "string":
            message += (
                f"; {earlier[1].describe()} has a string there, so Arrow fails with \"changed from string to {json_type}\""
            )
        fix = "quote it" if json_type in ("number", "boolean") else "join it into one string"
        self.log.error("not-string", f"{message}: {fix}", location)

    def _count_lengths(self, turn: dict[str, Any]) -> None:
        text = turn.get("input")
        if isinstance(text, str):
            self.input_lengths[len(text)] += 1
        output = turn.get("output")
        if isinstance(output, str):
            self.output_lengths[len(output)] += 1
            if not output.strip():
                self.empty_outputs += 1

    def stats(self) -> DatasetStats:
        return DatasetStats(
            records=self.records,
            turns=self.turns,
            empty_outputs=self.empty_outputs,
            duplicate_records=self.duplicate_record_count,
            duplicate_inputs=self.duplicate_input_count,
            input_length=_length_stats(self.input_lengths),
            output_length=_length_stats(self.output_lengths),
            duplicate_record_examples=tuple(self.duplicate_records),
            duplicate_input_examples=tuple(self.duplicate_inputs),
        )


def _null_message(number: int, key: str) -> str:
    if key == "output":
        return (
            f"turn {number} \"output\" is null: XTuner v0.1.12 and later fail with TypeError in the prompt template, "
            "and v0.1.9 trains on the text \"None\"; give the answer as a string or drop the record"
        )
    return f"turn {number} \"{key}\" is null: XTuner reads it as empty text; give it as a string"


# --- overlap --------------------------------------------------------------------------------


def find_overlap(other: Path, checker: RecordChecker) -> Overlap:
    """Count the records and first inputs of ``other`` that ``checker`` has already seen in the dataset."""
    log = ProblemLog(max_per_kind=0)
    counts = {"records": 0, "shared_records": 0, "shared_inputs": 0}
    examples: list[SharedExample] = []

    def on_record(location: Location, record: Any) -> None:
        counts["records"] += 1
        same_record = record_digest(record) in checker.record_locations
        if same_record:
            counts["shared_records"] += 1
        text = first_input(record)
        if text is None:
            return
        dataset_location = checker.input_locations.get(_digest(text))
        if dataset_location is None:
            return
        counts["shared_inputs"] += 1
        if len(examples) < MAX_EXAMPLES:
            examples.append(SharedExample(location, dataset_location, _preview(text), same_record))

    read_records(other, log, on_record)
    return Overlap(
        other=other,
        other_records=counts["records"],
        shared_records=counts["shared_records"],
        shared_inputs=counts["shared_inputs"],
        unreadable=log.kind_counts["invalid-json"],
        examples=tuple(examples),
    )


# --- entry point ----------------------------------------------------------------------------


def check_dataset(path: Path, *, against: Optional[Path] = None, max_per_kind: int = MAX_PROBLEMS_PER_KIND) -> CheckReport:
    """Check ``path`` for everything that stops XTuner from training on it as it is.

    With ``against`` (usually the test file), also count the records and first
    inputs that both files contain. Raises DatasetError when a file cannot be
    opened at all.
    """
    _require_file(path, "dataset")
    if against is not None:
        _require_file(against, "--against file")
    log = ProblemLog(max_per_kind)
    checker = RecordChecker(log)
    layout = read_records(path, log, checker)
    if checker.records == 0:
        log.error("no-records", "the file contains no records: XTuner needs at least one")
    overlap = find_overlap(against, checker) if against is not None else None
    return CheckReport(
        path=path,
        layout=layout,
        problems=tuple(log.problems),
        omitted=log.omitted(),
        errors=log.errors,
        warnings=log.warnings,
        stats=checker.stats(),
        overlap=overlap,
    )
