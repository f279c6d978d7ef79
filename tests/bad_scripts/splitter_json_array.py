"""Known-bad splitter: writes each part as one JSON array instead of JSON Lines."""

import json
import os
import random
import sys
import tempfile

RATIO = (7, 3)
SEED = 42
GROUP_BY = "none"


def read_records(path):
    with open(path, encoding="utf-8-sig") as stream:
        text = stream.read()
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def write_lines(path, records):
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)))
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(json.dumps(records, ensure_ascii=False) + "\n")
    os.replace(temporary, path)


def main(argv):
    seed = SEED
    if "--seed" in argv:
        position = argv.index("--seed")
        seed = int(argv[position + 1])
        argv = argv[:position] + argv[position + 2 :]
    source, train_path, test_path = argv
    records = read_records(source)
    if len(records) < 2:
        print(f"error: {source} has {len(records)} records; a split needs at least 2", file=sys.stderr)
        return 1
    train_size = len(records) - -(-len(records) * RATIO[1] // sum(RATIO))
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    write_lines(train_path, [records[index] for index in order[:train_size]])
    write_lines(test_path, [records[index] for index in order[train_size:]])
    print(f"train {train_size}, test {len(records) - train_size}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
