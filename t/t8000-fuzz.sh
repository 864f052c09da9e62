#!/usr/bin/env bash
# The fuzz targets (fuzz/, built by make fuzz): each runs HR_FUZZ_SECONDS (20)
# on a copy of its corpus in testdata/fuzz/NAME/, two at a time; a crash or a
# failed check is kept in build/fuzz/crashes/ and named. make check SANITIZE=1
# sets 0: skipped.
. "$(dirname "$0")/lib.sh"
fuzz_seconds=${HR_FUZZ_SECONDS:-20}
if [ "$fuzz_seconds" = 0 ]; then
    echo "skip fuzz: HR_FUZZ_SECONDS=0 (make check SANITIZE=1: the targets carry ASan and UBSan and ran in the plain check) # env"
    exit 0
fi
needs fuzz cmd:clang

# Runs build/fuzz/fuzz_NAME in dir; leaves its log and a result line there.
fuzz_one() { # name dir
    local name=$1 dir=$2 dict='' rc runs input
    mkdir -p "$dir/corpus" build/fuzz/crashes
    cp testdata/fuzz/"$name"/* "$dir/corpus/"
    [ -f fuzz/"$name".dict ] && dict=-dict=fuzz/$name.dict
    timeout $((fuzz_seconds + 120)) build/fuzz/fuzz_"$name" -max_total_time="$fuzz_seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="build/fuzz/crashes/$name-" $dict \
        "$dir/corpus" > "$dir/log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
    input=$(sed -n 's/.*Test unit written to //p' "$dir/log" | head -1)
    if [ $rc -eq 0 ] && [ -n "$runs" ]; then echo "ok fuzz $name: $runs runs, no crash"
    elif [ -n "$input" ]; then echo "not ok fuzz $name: crash on $input (build/fuzz/fuzz_$name $input runs it again)"
    else echo "not ok fuzz $name: exited with status $rc after ${runs:-0} runs"
    fi > "$dir/result"
}
fz=$(mktemp -d)
trap 'rm -rf "$fz"' EXIT
running=0
for f in fuzz/fuzz_*.c; do
    name=$(basename "$f" .c) name=${name#fuzz_}
    [ -z "$(hr_missing "fuzz:$name")" ] || continue
    fuzz_one "$name" "$fz/$name" &
    running=$((running + 1))
    if [ $running -ge 2 ]; then wait -n; running=$((running - 1)); fi
done
wait
for f in fuzz/fuzz_*.c; do
    name=$(basename "$f" .c) name=${name#fuzz_}
    if [ ! -f "$fz/$name/result" ]; then echo "skip fuzz $name: $(hr_missing "fuzz:$name")"; continue; fi
    cat "$fz/$name/result"
    case $(cat "$fz/$name/result") in
        "not ok "*) grep -E 'check failed|ERROR: |SUMMARY: |runtime error' "$fz/$name/log" | head -4 | sed 's/^/  /' ;;
    esac
done
