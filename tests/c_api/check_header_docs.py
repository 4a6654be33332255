"""Lint of chatsdk.h: every CHAT_API function is documented with Thread:,
Ownership: and Since: (in its own doc comment, the one it shares with the
declarations right above it, or its section's comment)."""

import re
import sys

REQUIRED = ("Thread:", "Ownership:", "Since:")


def main(path):
    text = open(path, encoding="utf-8").read()
    # Split into tokens: comments and declarations, in order.
    pos, section, own, last_own, missing, count = 0, "", "", "", [], 0
    for m in re.finditer(r"/\*.*?\*/|^CHAT_API[^;]*;", text, re.S | re.M):
        chunk = m.group(0)
        if chunk.startswith("/*"):
            if chunk.startswith("/* ----"):
                section, own, last_own = chunk, "", ""
            else:
                own += chunk
            continue
        name = re.search(r"(chat_\w+)\s*\(", chunk)
        if not name:
            continue
        count += 1
        doc = own if own else last_own
        have = section + doc
        lacks = [r for r in REQUIRED if r not in have]
        if lacks:
            missing.append(f"{name.group(1)}: no {', '.join(lacks)}")
        last_own, own = doc, ""
    if missing:
        print("\n".join(missing))
        return 1
    print(f"{count} functions documented")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
