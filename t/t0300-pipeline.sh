#!/usr/bin/env bash
# hr-compress | hr-count agrees with hr-compress's own count, on every
# scenario of testdata/hr-compress/scenarios/.
# needs: built:hr-compress built:hr-count
. "$(dirname "$0")/lib.sh"
for f in testdata/hr-compress/scenarios/*.json; do
    after=$(HEADROOM_HOME=/nonexistent "$B/hr-compress" --json-stats "$f" 2>&1 > /dev/null |
        sed -n 's/.*"tokens_after":\([0-9]*\).*/\1/p')
    counted=$(HEADROOM_HOME=/nonexistent "$B/hr-compress" < "$f" | "$B/hr-count" --json |
        sed -n 's/.*"total":\([0-9]*\)}$/\1/p')
    name="pipeline $(basename "$f"): hr-compress | hr-count --json counts tokens_after ($after)"
    if [ -n "$after" ] && [ "$after" = "$counted" ]; then echo "ok $name"; else echo "not ok $name, hr-count says '$counted'"; fi
done
