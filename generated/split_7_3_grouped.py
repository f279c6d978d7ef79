# Split XTuner conversation records 7:3 into train and test JSON Lines files.
# Usage: python split_7_3_grouped.py INPUT.jsonl train.jsonl test.jsonl [--seed N]
# Written by promptgen 0.1.0 from template splitter v1 (provider: reference).
# Settings: ratio='7:3', seed=42, group_by='input'
"""Split XTuner conversation records into a train file and a test file.

Usage: python splitter.py INPUT TRAIN_OUT TEST_OUT [--seed N]

INPUT is JSON Lines or one JSON array of records, in UTF-8 with or without a BOM.
The records are shuffled with random.Random(seed) and cut at RATIO, with the test
part rounded up. With GROUP_BY = "input", records whose first turn has the same
input all land in the same part. Both outputs are JSON Lines, written to temporary
files first, so a failed run leaves neither behind. Errors are one line on stderr
with exit status 1 (2 for command-line mistakes, 130 when interrupted).

A JSON Lines input is read twice: once to check every record and note where it starts,
and again, record by record, while the outputs are written. So memory grows with the
number of records, not with their size, but INPUT must not change during the run.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import os
import random
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, NoReturn, Protocol, Sequence, TextIO

# Settings baked in when promptgen wrote this script.
RATIO = (7, 3)
SEED = 42
GROUP_BY = "input"

# The four characters JSON allows between tokens.
JSON_WHITESPACE = " \t\n\r"

# json.dumps(value, ensure_ascii=False) builds a new JSONEncoder on every call and returns
# this encoder's encode(value); one shared encoder gives the same text without that cost.
RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False)


class SplitError(Exception):
    """A failure the user can fix. Its message is one line naming the value and the fix."""


class JsonLinesTexts:
    """The records of a JSON Lines file as json.dumps texts, read back from the file by position.

    Only the byte offset and length of each record's text, and one flag, are kept in memory.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offsets: list[int] = []
        self.lengths: list[int] = []
        # 1 where the line is already json.dumps(record, ensure_ascii=False), so it is copied as it is.
        self.canonical = bytearray()
        self.stream: BinaryIO | None = None

    def append(self, offset: int, length: int, canonical: bool) -> None:
        self.offsets.append(offset)
        self.lengths.append(length)
        self.canonical.append(canonical)

    def __len__(self) -> int:
        return len(self.offsets)

    def __getitem__(self, position: int) -> str:
        if self.stream is None:
            # Unbuffered, so that each read takes the record's bytes and no more.
            self.stream = self.path.open("rb", buffering=0)
        self.stream.seek(self.offsets[position])
        text = self.stream.read(self.lengths[position]).decode("utf-8")
        if self.canonical[position]:
            return text
        return RECORD_ENCODER.encode(json.loads(text))

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


class JsonArrayTexts:
    """The records of a JSON array as json.dumps texts, parsed again from the array's text by position."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offsets: list[int] = []
        self.decoder = json.JSONDecoder()

    def append(self, offset: int) -> None:
        self.offsets.append(offset)

    def __len__(self) -> int:
        return len(self.offsets)

    def __getitem__(self, position: int) -> str:
        value, _ = self.decoder.raw_decode(self.text, self.offsets[position])
        return RECORD_ENCODER.encode(value)

    def close(self) -> None:
        pass


RecordTexts = JsonLinesTexts | JsonArrayTexts


class TextsByPosition(Protocol):
    """Record texts by 0-based position, such as a RecordTexts or a list of str."""

    def __len__(self) -> int: ...

    def __getitem__(self, position: int) -> str: ...


@dataclass
class Records:
    """The positions of the input records and their groups. The records themselves stay in the input."""

    group_by_input: bool
    texts: RecordTexts
    # Group key -> positions in ``texts``; keys in order of first appearance.
    groups: dict[str, list[int]] = field(default_factory=dict)

    def check(self, value: object, where: Callable[[], str]) -> None:
        """Check one parsed JSON value before its position is added to ``texts``.

        ``where()`` returns its place for error messages, such as "line 3 of data.jsonl". It is
        called only on an error, because formatting it for every record would cost time.
        """
        if not isinstance(value, dict):
            raise SplitError(
                f"{where()} is a JSON {json_type(value)}, not an object; "
                'each record must be an object such as {"conversation": [...]}'
            )
        if self.group_by_input:
            key = first_input(value)
            if key is None:
                raise SplitError(
                    f'{where()} has no string "input" in its first conversation turn; '
                    "GROUP_BY = 'input' needs one in every record, so fix the record or set GROUP_BY to 'none'"
                )
            self.groups.setdefault(key, []).append(len(self.texts))


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that reports a usage mistake on one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        self.exit(2, f"error: {message} ({usage})\n")


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = ArgumentParser(
        description=(
            f"Split XTuner conversation records {RATIO[0]}:{RATIO[1]} into train and test JSON Lines files."
        )
    )
    parser.add_argument("input", type=Path, metavar="INPUT", help="the records, as JSON Lines or one JSON array")
    parser.add_argument("train", type=Path, metavar="TRAIN_OUT", help="the JSON Lines file for the train part")
    parser.add_argument("test", type=Path, metavar="TEST_OUT", help="the JSON Lines file for the test part")
    parser.add_argument(
        "--seed", type=int, default=SEED, metavar="N", help=f"seed of the shuffle (default: {SEED})"
    )
    return parser.parse_args(argv)


def check_settings() -> None:
    if len(RATIO) != 2 or not all(isinstance(share, int) and share >= 1 for share in RATIO):
        raise SplitError(f"invalid RATIO {RATIO!r}: set it to two whole numbers of at least 1, such as (7, 3)")
    if GROUP_BY not in ("none", "input"):
        raise SplitError(f"invalid GROUP_BY {GROUP_BY!r}: set it to 'none' or 'input'")


def check_paths(input_path: Path, outputs: Sequence[Path]) -> None:
    if not input_path.exists():
        raise SplitError(f"input {input_path} not found; check the path")
    if input_path.is_dir():
        raise SplitError(f"input {input_path} is a folder; give the path of a JSON Lines or JSON file")
    for output in outputs:
        if output.is_dir():
            raise SplitError(f"output {output} is a folder; give a file path inside it")
        if not output.parent.is_dir():
            raise SplitError(
                f"output folder {output.parent} does not exist; create it or choose another output path"
            )
        if output.resolve() == input_path.resolve():
            raise SplitError(f"output {output} is the input file; choose another output path")
    if outputs[0].resolve() == outputs[1].resolve():
        raise SplitError(f"the train and test outputs are both {outputs[0]}; give two different paths")


def json_type(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "object"


def first_input(record: dict[str, object]) -> str | None:
    """Return the "input" of the record's first conversation turn, or None when it has none."""
    conversation = record.get("conversation")
    if not isinstance(conversation, list) or not conversation:
        return None
    turn = conversation[0]
    if not isinstance(turn, dict):
        return None
    key = turn.get("input")
    return key if isinstance(key, str) else None


def first_character(path: Path) -> str:
    """Return the first character that is not JSON whitespace, or "" for an empty file."""
    with path.open(encoding="utf-8-sig") as stream:
        while chunk := stream.read(1 << 16):
            stripped = chunk.lstrip(JSON_WHITESPACE)
            if stripped:
                return stripped[0]
    return ""


def read_json_lines(path: Path, group_by_input: bool) -> Records:
    texts = JsonLinesTexts(path)
    records = Records(group_by_input=group_by_input, texts=texts)
    offset = 0
    # Binary lines end at LF only, so a lone CR stays in its line, where JSON reads it as whitespace.
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            start = offset
            offset += len(line)
            if number == 1 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8) :]
                start += len(codecs.BOM_UTF8)
            raw = line.removesuffix(b"\n").removesuffix(b"\r")
            text = raw.decode("utf-8")
            if not text or text.isspace():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise SplitError(
                    f"line {number} of {path} is not valid JSON: {error.msg} at column {error.colno}; "
                    "fix or remove the line"
                ) from error
            records.check(value, lambda: f"line {number} of {path}")
            texts.append(start, len(raw), RECORD_ENCODER.encode(value) == text)
    return records


def skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in JSON_WHITESPACE:
        position += 1
    return position


def iter_json_array(text: str) -> Iterator[tuple[int, object]]:
    """Yield the start offset and value of each element of the JSON array in ``text``, or raise JSONDecodeError.

    Only one element is parsed at a time, so the records never exist as objects all at once.
    """
    decoder = json.JSONDecoder()
    # first_character found "[" as the first character that is not whitespace.
    position = skip_whitespace(text, skip_whitespace(text, 0) + 1)
    if text.startswith("]", position):
        position += 1
    else:
        while True:
            start = skip_whitespace(text, position)
            value, position = decoder.raw_decode(text, start)
            yield start, value
            position = skip_whitespace(text, position)
            if not text.startswith(",", position):
                break
            position += 1
        if not text.startswith("]", position):
            raise json.JSONDecodeError("Expecting ',' delimiter or ']'", text, position)
        position += 1

    position = skip_whitespace(text, position)
    if position != len(text):
        raise json.JSONDecodeError("Extra data after the array", text, position)


def read_json_array(path: Path, group_by_input: bool) -> Records:
    text = path.read_text(encoding="utf-8-sig")
    texts = JsonArrayTexts(text)
    records = Records(group_by_input=group_by_input, texts=texts)
    try:
        for index, (start, value) in enumerate(iter_json_array(text)):
            records.check(value, lambda: f"record {index} (0-based index) of the JSON array in {path}")
            texts.append(start)
    except json.JSONDecodeError as error:
        raise SplitError(
            f"{path} is not a valid JSON array: {error.msg} at line {error.lineno} column {error.colno}; "
            "fix the file"
        ) from error
    return records


def read_records(path: Path) -> Records:
    """Read every record of ``path``: one JSON array if it starts with "[", else JSON Lines."""
    group_by_input = GROUP_BY == "input"
    try:
        if first_character(path) == "[":
            return read_json_array(path, group_by_input)
        return read_json_lines(path, group_by_input)
    except UnicodeDecodeError as error:
        raise SplitError(f"input {path} is not UTF-8 text; save it as UTF-8") from error
    except OSError as error:
        raise SplitError(f"cannot read input {path}: {error.strerror}; check its permissions") from error


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def split_sizes(count: int) -> tuple[int, int]:
    """Return the train and test sizes for ``count`` records, rounding the test part up."""
    train_share, test_share = RATIO
    if count < 2:
        raise SplitError(f"the input has {plural(count, 'record')}; a split needs at least 2")
    # Integer ceiling division: float arithmetic such as n * 0.3 can round the wrong way.
    test_size = -(-count * test_share // (train_share + test_share))
    train_size = count - test_size
    if train_size == 0:
        raise SplitError(
            f"{count} records at ratio {train_share}:{test_share} leave the train part empty; "
            "add records or give train a larger share of RATIO"
        )
    return train_size, test_size


def split_records(count: int, train_size: int, seed: int) -> tuple[list[int], list[int]]:
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order[:train_size], order[train_size:]


def split_groups(groups: dict[str, list[int]], train_size: int, seed: int) -> tuple[list[int], list[int]]:
    """Deal whole groups to train until it contains ``train_size`` records, and the rest to test."""
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    train: list[int] = []
    test: list[int] = []
    for key in keys:
        part = train if len(train) < train_size else test
        part.extend(groups[key])
    if not test:
        raise SplitError(
            f"grouping by input put all {plural(len(train), 'record')} ({plural(len(groups), 'group')}) "
            "into train, so the test part is empty; add records with other inputs or set GROUP_BY to 'none'"
        )
    return train, test


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[TextIO]:
    """Yield a UTF-8 text stream to a temporary file that replaces ``path`` on success.

    On any exception, KeyboardInterrupt included, the temporary file is deleted and
    ``path`` is left as it was.
    """
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp_path = Path(temp_name)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file readable by its owner only; give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_path, 0o666 & ~umask)
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise


def write_outputs(
    texts: TextsByPosition, train_path: Path, train: list[int], test_path: Path, test: list[int]
) -> None:
    """Write the records at positions ``train`` and ``test`` of ``texts`` as two JSON Lines files.

    Both files are written in full before either is renamed into place, so a failure
    while writing, KeyboardInterrupt included, leaves neither output changed.
    """
    # NOTE: if renaming the train file fails after the test file was renamed, the new test
    # file stays. Each temporary file sits in its output's folder, so that rename fails only in
    # rare cases, such as the folder's permissions changing during the run.
    with atomic_output(train_path) as train_stream, atomic_output(test_path) as test_stream:
        for position in train:
            train_stream.write(texts[position] + "\n")
        for position in test:
            test_stream.write(texts[position] + "\n")


def split(input_path: Path, train_path: Path, test_path: Path, seed: int) -> str:
    """Split the records of ``input_path`` into the two outputs. Return the summary line."""
    check_paths(input_path, (train_path, test_path))
    records = read_records(input_path)
    try:
        count = len(records.texts)
        train_size, _ = split_sizes(count)

        if records.group_by_input:
            train, test = split_groups(records.groups, train_size, seed)
            source = f"{plural(count, 'record')} in {plural(len(records.groups), 'group')} of equal input"
        else:
            train, test = split_records(count, train_size, seed)
            source = plural(count, "record")

        write_outputs(records.texts, train_path, train, test_path, test)
    finally:
        records.texts.close()
    return (
        f"wrote {plural(len(train), 'record')} to {train_path} and {plural(len(test), 'record')} to {test_path} "
        f"from {source}, ratio {RATIO[0]}:{RATIO[1]}, seed {seed}"
    )


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    try:
        check_settings()
        summary = split(arguments.input, arguments.train, arguments.test, arguments.seed)
    except SplitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no output was written", file=sys.stderr)
        return 130
    print(summary, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
