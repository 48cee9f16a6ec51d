#!/usr/bin/env bash
# netbench.sh: throughput over a network, as issue 11 tabulates it.
#
# Runs loadgen (release) against its embedded receiver answering every
# request 0, 50 and 200 ms late, failing 20 % of requests (500/503/429 or a
# dropped connection) with no delay, and answering 429 above RATE_LIMIT
# requests per second: 200,000 events from 2 threads, LTS_OVERFLOW=block,
# every other setting at its default (LTS_* variables of the calling shell
# are ignored). Each case runs RUNS times to the end (`--end flush`: the
# time until all delivered, delivered/s) and RUNS times shut down right
# after the burst (`--end shutdown`: the share delivered when the guard's
# deadline, 5 s by default, ends). Medians are printed as a Markdown table.
#
#   examples/netbench.sh
#   RUNS=5 RATE_LIMIT=50 examples/netbench.sh
#   LOADGEN_ARGS="--max-in-flight 8" FIELDS="in_flight_max" examples/netbench.sh
#
# RUNS (3), EVENTS (200000), THREADS (2), RATE_LIMIT (20), CASES (every case
# name: delay0 delay50 delay200 fail20 ratelimit), LOADGEN_ARGS (more loadgen
# flags for every run), FIELDS (more loadgen JSON fields whose flush-run
# medians get a column each), OUT_DIR (where the raw JSON lines go; a new
# temporary directory by default). The CPU model and the date come first.
set -euo pipefail

RUNS=${RUNS:-3}
EVENTS=${EVENTS:-200000}
THREADS=${THREADS:-2}
RATE_LIMIT=${RATE_LIMIT:-20}
CASES=${CASES:-delay0 delay50 delay200 fail20 ratelimit}
LOADGEN_ARGS=${LOADGEN_ARGS:-}
FIELDS=${FIELDS:-}
OUT_DIR=${OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/netbench.XXXXXX")}

cd "$(dirname "$0")/.."
cargo build --quiet --release -p examples --example loadgen
LOADGEN=${CARGO_TARGET_DIR:-target}/release/examples/loadgen
mkdir -p "$OUT_DIR"

# The flags of one case.
case_flags() {
    case $1 in
    delay0) echo "--delay-ms 0" ;;
    delay50) echo "--delay-ms 50" ;;
    delay200) echo "--delay-ms 200" ;;
    fail20) echo "--fail-rate 0.2" ;;
    ratelimit) echo "--rate-limit $RATE_LIMIT" ;;
    *)
        echo "netbench: unknown case $1 (want delay0 delay50 delay200 fail20 ratelimit)" >&2
        exit 2
        ;;
    esac
}

# The values of one JSON field, one per line, from loadgen's lines in a file.
field() {
    sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2"
}

# The median of the numbers on stdin; "-" when there are none or one is null.
median() {
    sort -g | awk '
        $1 == "null" { missing = 1 }
        { v[NR] = $1 }
        END {
            if (missing || NR == 0) { print "-"; exit }
            if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
        }'
}

echo "CPU: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "loadgen --events $EVENTS --threads $THREADS, LTS_OVERFLOW=block, $RUNS runs each, medians${LOADGEN_ARGS:+; also: $LOADGEN_ARGS}"
echo
header="| case | all delivered after (s) | delivered/s | delivered by the guard's deadline | requests | answered 429 |"
rule="|---|---|---|---|---|---|"
for f in $FIELDS; do
    header="$header $f |"
    rule="$rule---|"
done
echo "$header"
echo "$rule"

# Run loadgen with no LTS_* variable but these.
loadgen() {
    env $(env | sed -n 's/^\(LTS_[A-Za-z0-9_]*\)=.*/-u \1/p') LTS_OVERFLOW=block \
        "$LOADGEN" --events "$EVENTS" --threads "$THREADS" "$@"
}

for c in $CASES; do
    flags=$(case_flags "$c")
    for end in flush shutdown; do
        out="$OUT_DIR/$c.$end.jsonl"
        : >"$out"
        for _ in $(seq "$RUNS"); do
            # shellcheck disable=SC2086 # the flags are words on purpose
            loadgen --end "$end" $flags $LOADGEN_ARGS 2>>"$OUT_DIR/$c.$end.stderr" | tail -n 1 >>"$out"
        done
    done
    flush="$OUT_DIR/$c.flush.jsonl"
    shutdown="$OUT_DIR/$c.shutdown.jsonl"
    share=$(field delivered_share "$shutdown" | median)
    [ "$share" = - ] || share=$(awk -v s="$share" 'BEGIN { printf "%.1f %%", s * 100 }')
    row="| $c ($flags) | $(field all_delivered_seconds "$flush" | median) | $(field delivered_per_s "$flush" | median) | $share | $(field requests "$flush" | median) | $(field answered_429 "$flush" | median) |"
    for f in $FIELDS; do
        row="$row $(field "$f" "$flush" | median) |"
    done
    echo "$row"
done
echo
echo "raw runs (one JSON line each): $OUT_DIR"
