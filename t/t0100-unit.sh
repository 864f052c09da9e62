#!/usr/bin/env bash
# libhr's C unit tests: every $B/test/test_* (lib/test/test_*.c, built by make
# unit-tests), each check named "BINARY: FUNCTION".
# needs: built:test
. "$(dirname "$0")/lib.sh"
# test_nfc reads Unicode's NormalizationTest.txt (Debian's unicode-data), unpacked once
nfc_bz2=/usr/share/unicode/NormalizationTest.txt.bz2
export HR_NFC_TEST_FILE="$B/test/NormalizationTest.txt"
if [ -f "$nfc_bz2" ] && [ -n "$PY" ] && [ ! -s "$HR_NFC_TEST_FILE" ]; then
    "$PY" -c 'import bz2, sys; sys.stdout.buffer.write(bz2.open(sys.argv[1]).read())' "$nfc_bz2" \
        > "$HR_NFC_TEST_FILE.tmp" && mv "$HR_NFC_TEST_FILE.tmp" "$HR_NFC_TEST_FILE"
fi
for t in "$B"/test/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    out=$("$t" 2>&1)
    rc=$?
    printf '%s\n' "$out" | sed -E "s/^(ok|not ok|skip) /\1 $name: /"
    if [ $rc -ne 0 ] && ! grep -q '^not ok ' <<< "$out"; then
        echo "not ok $name: exited with status $rc"
        tail -5 <<< "$out" | sed 's/^/  /'
    fi
done
