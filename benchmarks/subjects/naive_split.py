"""A splitter written the usual way: every record parsed into memory, shuffled, dumped.

Usage: python naive_split.py INPUT.jsonl TRAIN.jsonl TEST.jsonl
"""

import json
import random
import sys

with open(sys.argv[1], encoding="utf-8") as stream:
    records = [json.loads(line) for line in stream if line.strip()]
random.Random(42).shuffle(records)
cut = int(len(records) * 0.7)
for path, part in ((sys.argv[2], records[:cut]), (sys.argv[3], records[cut:])):
    with open(path, "w", encoding="utf-8") as stream:
        for record in part:
            stream.write(json.dumps(record) + "\n")
