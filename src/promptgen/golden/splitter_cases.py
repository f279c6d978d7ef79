"""The splitter's golden cases, and the contract's split formulas that give their expected parts.

The formulas are written here from the contract, independently of the reference
script: the test part is ceil(n * b / (a + b)) in integers, the order comes from
random.Random(seed).shuffle, and with grouping whole groups are walked in a
shuffled order of their keys.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from promptgen.golden.model import (
    Builder,
    Expected,
    ExpectFailure,
    ExpectSplit,
    GoldenCase,
    Mention,
    Preparation,
)
from promptgen.golden.output import count
from promptgen.spec import SplitterSettings

INPUT = "conversations.jsonl"
TRAIN = "train.jsonl"
TEST = "test.jsonl"
OUTPUTS = (TRAIN, TEST)

# The seed the --seed case passes; a script baked with this seed gets the next one,
# so the override always changes the result.
OVERRIDE_SEED = 7


def split_sizes(records: int, ratio: tuple[int, int]) -> tuple[int, int]:
    """Return the train and test sizes: test is ceil(records * b / (a + b)) for ratio a:b, in integers."""
    train_share, test_share = ratio
    test = -(-records * test_share // (train_share + test_share))
    return records - test, test


def group_key(record: Any) -> str | None:
    """Return the "input" of the record's first conversation turn, or None when it has no string one."""
    if not isinstance(record, dict):
        return None
    conversation = record.get("conversation")
    if not isinstance(conversation, list) or not conversation or not isinstance(conversation[0], dict):
        return None
    key = conversation[0].get("input")
    return key if isinstance(key, str) else None


def plan_split(
    records: list[dict[str, Any]], ratio: tuple[int, int], seed: int, group_by: str, where: InputPositions
) -> Expected:
    """Return the expected split of ``records``; ``where`` names each record as an error would."""
    total = len(records)
    if total < 2:
        return ExpectFailure(reason=f"the input has {count(total, 'record')}, and a split needs at least 2")
    n_train, _ = split_sizes(total, ratio)
    if n_train == 0:
        return ExpectFailure(reason=f"{total} records at {ratio[0]}:{ratio[1]} leave the train part empty")

    if group_by != "input":
        order = list(range(total))
        random.Random(seed).shuffle(order)
        return ExpectSplit(
            records=tuple(records), train=tuple(order[:n_train]), test=tuple(order[n_train:]), ratio=ratio, seed=seed
        )

    groups: dict[str, list[int]] = {}
    for position, record in enumerate(records):
        key = group_key(record)
        if key is None:
            label = f"{where.unit} {where.numbers[position]}"
            return ExpectFailure(
                reason=f'{label} has no "input" in its first turn, and group_by is "input"',
                mentions=(Mention(rf"\b{where.numbers[position]}\b", label),),
            )
        groups.setdefault(key, []).append(position)
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    train: list[int] = []
    test: list[int] = []
    for key in keys:
        (train if len(train) < n_train else test).extend(groups[key])
    if not test:
        return ExpectFailure(
            reason=f"{count(len(groups), 'group')} of equal input all go to train, so the test part is empty"
        )
    return ExpectSplit(
        records=tuple(records), train=tuple(train), test=tuple(test), ratio=ratio, seed=seed, groups=len(groups)
    )


def conversation(input_text: str, output_text: str) -> dict[str, Any]:
    return {"conversation": [{"input": input_text, "output": output_text}]}


def numbered_records(total: int) -> list[dict[str, Any]]:
    """Return ``total`` distinct records; every seventh is in Chinese."""
    records = []
    for number in range(1, total + 1):
        if number % 7 == 0:
            records.append(conversation(f"药物{number}的剂量是多少？", f"每日{number}毫克。"))
        else:
            records.append(conversation(f"Question {number}: what is drug {number} for?", f"Answer {number}."))
    return records


@dataclass(frozen=True)
class InputPositions:
    """The position of each record as an error names it: 1-based lines, or 0-based JSON array indexes."""

    unit: str
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class InputFile:
    """A declared input file: its exact text, and where each record sits in it."""

    name: str
    text: str
    where: InputPositions
    bom: bool = False


def json_lines(
    records: list[dict[str, Any]],
    *,
    newline: str = "\n",
    ensure_ascii: bool = False,
    blank_every: int = 0,
) -> InputFile:
    """Declare ``records`` as JSON Lines; ``blank_every`` adds a blank line after every that many records."""
    lines: list[str] = []
    numbers: list[int] = []
    if blank_every:
        lines.append("")
    for position, record in enumerate(records, start=1):
        lines.append(json.dumps(record, ensure_ascii=ensure_ascii))
        numbers.append(len(lines))
        if blank_every and position % blank_every == 0:
            lines.append("")
    if blank_every:
        lines.extend(["", ""])
    text = "".join(line + newline for line in lines)
    return InputFile(name=INPUT, text=text, where=InputPositions("line", tuple(numbers)))


def raw_lines(lines: tuple[str, ...]) -> InputFile:
    """Declare JSON Lines text exactly as written, one record per line."""
    where = InputPositions("line", tuple(range(1, len(lines) + 1)))
    return InputFile(name=INPUT, text="".join(line + "\n" for line in lines), where=where)


def json_array(records: list[Any]) -> InputFile:
    text = "\n  " + json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    where = InputPositions("array index", tuple(range(len(records))))
    return InputFile(name="conversations.json", text=text, where=where)


def _parse_declared(source: InputFile) -> list[Any]:
    text = source.text
    if text.lstrip().startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def _prepare_split(
    settings: SplitterSettings, workdir: Path, source: InputFile, seed_override: bool = False
) -> Preparation:
    data = source.text.encode("utf-8")
    (workdir / source.name).write_bytes(b"\xef\xbb\xbf" + data if source.bom else data)
    args: tuple[str, ...] = (source.name, TRAIN, TEST)
    seed = settings.seed
    if seed_override:
        seed = OVERRIDE_SEED if settings.seed != OVERRIDE_SEED else OVERRIDE_SEED + 1
        args += ("--seed", str(seed))
    records = _parse_declared(source)
    expected = plan_split(records, settings.ratio, seed, settings.group_by, source.where)
    return Preparation(args=args, outputs=OUTPUTS, expected=expected, inputs=(source.name,))


def _prepare_failure(
    settings: SplitterSettings, workdir: Path, source: InputFile, expected: ExpectFailure
) -> Preparation:
    (workdir / source.name).write_text(source.text, encoding="utf-8", newline="")
    return Preparation(args=(source.name, TRAIN, TEST), outputs=OUTPUTS, expected=expected, inputs=(source.name,))


def _prepare_existing_outputs(settings: SplitterSettings, workdir: Path) -> Preparation:
    source = raw_lines((json.dumps(conversation("q1", "a1")), "not JSON", json.dumps(conversation("q2", "a2"))))
    (workdir / source.name).write_text(source.text, encoding="utf-8")
    earlier = []
    for name in OUTPUTS:
        data = f'{{"conversation": [{{"input": "earlier {name}", "output": "unchanged"}}]}}\n'.encode("utf-8")
        (workdir / name).write_bytes(data)
        earlier.append((name, data))
    expected = ExpectFailure(
        reason="line 2 is not valid JSON",
        mentions=(Mention(r"\b2\b", "line 2"),),
        unchanged_outputs=tuple(earlier),
    )
    return Preparation(
        args=(source.name, TRAIN, TEST), outputs=OUTPUTS, expected=expected, inputs=(source.name, *OUTPUTS)
    )


def _prepare_missing_input(settings: SplitterSettings, workdir: Path) -> Preparation:
    expected = ExpectFailure(
        reason="the input file does not exist",
        mentions=(Mention(re.escape("missing.jsonl"), "the missing path"),),
    )
    return Preparation(args=("missing.jsonl", TRAIN, TEST), outputs=OUTPUTS, expected=expected, inputs=())


def _interleaved_groups(sizes: dict[str, int]) -> list[dict[str, Any]]:
    """Return records whose inputs repeat by group, taking one record from each group in turn."""
    remaining = dict(sizes)
    records = []
    while any(remaining.values()):
        for key in sizes:
            if remaining[key]:
                number = sizes[key] - remaining[key] + 1
                records.append(conversation(key, f"Answer {number} about {key.lower()}"))
                remaining[key] -= 1
    return records


STRADDLING_GROUPS = _interleaved_groups(
    {
        "Aspirin dose?": 3,
        "Ibuprofen dose?": 1,
        "Naproxen dose?": 4,
        "Paracetamol dose?": 2,
        "Codeine dose?": 5,
        "Metformin dose?": 1,
        "Warfarin dose?": 3,
        "Insulin dose?": 1,
    }
)

LARGE_GROUP = _interleaved_groups(
    {"Is it safe in pregnancy?": 6, "Aspirin?": 1, "Ibuprofen?": 1, "Naproxen?": 1, "Codeine?": 1}
)

KEY_ORDER_LINES = (
    '{"id":1,"conversation":[{"output":"Answer first.","input":"Input second.","system":"System last."}],'
    '"source":"label"}',
    '{"source": "label", "conversation": [{"input": "Nested", "output": "value"}], '
    '"meta": {"z": 1, "a": [true, null]}}',
    '{"conversation":[{"input":"A number written as 1.50","output":"keeps its value"}],"score":1.50}',
    '{"conversation": [{"input": "Plain record", "output": "Plain answer."}]}',
)

NON_ASCII_RECORDS = [
    conversation("阿司匹林的常用剂量是多少？", "成人每次口服300–600毫克。"),
    conversation("Ibuprofène ou paracétamol ?", "Les deux, selon l’avis médical."),
    conversation("💊 and the line separator \u2028 stay unescaped", "ДА — да"),
    conversation("Ελληνικά", "العربية"),
]

EMPTY_INPUT = InputFile(name=INPUT, text="", where=InputPositions("line", ()))

MISSING_KEY_RECORDS = [
    *numbered_records(3),
    {"conversation": [{"output": "An answer without an input."}]},
    *numbered_records(9)[3:],
]


def _split_case(name: str, description: str, source: InputFile, *, seed_override: bool = False) -> GoldenCase:
    return GoldenCase(
        name=name,
        kind="splitter",
        description=description,
        build=partial(_prepare_split, source=source, seed_override=seed_override),
    )


def _failure_case(name: str, description: str, source: InputFile, expected: ExpectFailure) -> GoldenCase:
    return GoldenCase(
        name=name,
        kind="splitter",
        description=description,
        build=partial(_prepare_failure, source=source, expected=expected),
    )


def _case(name: str, description: str, build: Builder) -> GoldenCase:
    return GoldenCase(name=name, kind="splitter", description=description, build=build)


def splitter_cases() -> list[GoldenCase]:
    """Return every splitter case, in the order they are run."""
    ten = numbered_records(10)
    return [
        _split_case(
            "split-690", "690 records split at the ratio, test part rounded up.", json_lines(numbered_records(690))
        ),
        _split_case("split-10", "10 records split at the ratio in random.Random(seed) order.", json_lines(ten)),
        _split_case("split-2", "2 records give one each, or fail when a part would be empty.", json_lines(ten[:2])),
        _split_case("json-array", "An input starting with [ after whitespace is one JSON array.", json_array(ten)),
        _split_case(
            "bom", "A UTF-8 BOM before the first record is ignored.", _with_bom(json_lines(ten))
        ),
        _split_case("crlf", "CRLF line ends are read as line ends.", json_lines(ten, newline="\r\n")),
        _split_case("blank-lines", "Blank lines are not records.", json_lines(ten, blank_every=3)),
        _split_case(
            "non-ascii",
            "Records escaped as \\uXXXX in the input are written unescaped.",
            json_lines(NON_ASCII_RECORDS, ensure_ascii=True),
        ),
        _split_case(
            "key-order", "Records are re-serialized with their keys in input order.", raw_lines(KEY_ORDER_LINES)
        ),
        _split_case("seed-override", "--seed N replaces the baked-in seed.", json_lines(ten), seed_override=True),
        _split_case(
            "groups-straddle",
            "With group_by input, groups of equal input never straddle the two parts.",
            json_lines(STRADDLING_GROUPS),
        ),
        _split_case(
            "group-larger-than-test",
            "A group larger than the test share still goes whole to one part.",
            json_lines(LARGE_GROUP),
        ),
        _split_case(
            "groups-distinct",
            "With every input distinct, grouping gives the ungrouped split.",
            json_lines(numbered_records(20)),
        ),
        _split_case(
            "one-group",
            "With group_by input, records that all share one input fail, because test would be empty.",
            json_lines([conversation("The same question", f"Answer {number}") for number in range(1, 6)]),
        ),
        _split_case(
            "group-key-missing",
            "With group_by input, a record without an input fails naming its line.",
            json_lines(MISSING_KEY_RECORDS),
        ),
        _failure_case(
            "not-json",
            "A line that is not JSON fails naming the line.",
            raw_lines((*(json.dumps(record) for record in ten[:2]), '{"conversation": [', json.dumps(ten[2]))),
            ExpectFailure(reason="line 3 is not valid JSON", mentions=(Mention(r"\b3\b", "line 3"),)),
        ),
        _failure_case(
            "not-an-object",
            "A line holding JSON that is not an object fails naming the line.",
            raw_lines((json.dumps(ten[0]), '["a list", "not an object"]', json.dumps(ten[1]))),
            ExpectFailure(reason="line 2 is a JSON array, not an object", mentions=(Mention(r"\b2\b", "line 2"),)),
        ),
        _failure_case(
            "array-element-not-object",
            "An element of a JSON array that is not an object fails naming its index.",
            json_array([ten[0], "not an object", ten[1]]),
            ExpectFailure(reason="array index 1 is a string, not an object", mentions=(Mention(r"\b1\b", "index 1"),)),
        ),
        _split_case("one-record", "A single record cannot be split.", json_lines(ten[:1])),
        _split_case("no-records", "An empty input cannot be split.", EMPTY_INPUT),
        _case("missing-input", "An input path that does not exist fails naming it.", _prepare_missing_input),
        _case(
            "existing-outputs",
            "A failed run leaves train and test files from an earlier run unchanged.",
            _prepare_existing_outputs,
        ),
    ]


def _with_bom(source: InputFile) -> InputFile:
    return InputFile(name=source.name, text=source.text, where=source.where, bom=True)
