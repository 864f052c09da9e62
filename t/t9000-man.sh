#!/usr/bin/env bash
# The man pages pass mandoc's lint at warning level.
# needs: cmd:mandoc
. "$(dirname "$0")/lib.sh"
for m in man/*.1 man/*.7 man/*.8; do
    if out=$(mandoc -Tlint -W warning "$m" 2>&1) && [ -z "$out" ]; then echo "ok mandoc -Tlint $m"
    else echo "not ok mandoc -Tlint $m"; echo "$out" | head -5 | sed 's/^/  /'; fi
done
