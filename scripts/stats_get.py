#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Print one counter of the daemon's stats record (xipfs -o stats=FILE).

usage: stats_get.py FILE KEY

KEY is a dotted path into the JSON record: "version", "lost", "ops.READ",
"read.copy_bytes", "verify.blocks_failed", "push.on"...  A number prints as
a decimal integer, a boolean as 1 or 0, a string as it is.  A missing file,
a malformed record or an unknown key is a message on stderr and exit 1, so
a test that asks for a counter the daemon does not write fails loudly.
"""
import json
import sys


def lookup(record, key):
    value = record
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(key)
        value = value[part]
    return value


def main(argv):
    if len(argv) != 3:
        print("usage: stats_get.py FILE KEY", file=sys.stderr)
        return 2
    path, key = argv[1], argv[2]
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        value = lookup(record, key)
    except OSError as e:
        print(f"stats_get: {path}: {e.strerror}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"stats_get: {path}: not a stats record: {e}", file=sys.stderr)
        return 1
    except KeyError:
        print(f"stats_get: {path}: no counter {key}", file=sys.stderr)
        return 1
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, (dict, list)):
        print(f"stats_get: {path}: {key} is a section, not a counter",
              file=sys.stderr)
        return 1
    print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
