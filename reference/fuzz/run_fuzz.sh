#!/bin/bash
# Runs each fuzz target for SECONDS (make fuzz). The text parsers (mtx, tenx-dir) are CellWeave's
# own code: any crash, trap, leak of a sanitizer report or hang stops the run and fails it. The
# HDF5 targets also drive libhdf5, which faults or loops on some corrupted files by itself; they
# run with libFuzzer's fork mode ignoring those, and every input it kept as a crash or timeout is
# then replayed through the real `cellweave convert`, which must refuse it cleanly (exit 1, with
# the crash guard turning libhdf5's faults into errors): a crash there is CellWeave's and fails.
# Each target's executed inputs are added to $dir/totals.tsv (date, target, seconds, inputs), the
# running total over all rounds kept in that corpus directory. TARGETS (default all four)
# chooses which run; FUZZ_JOBS (default 1) how many processes an HDF5 target runs at once.
set -uo pipefail
fuzzer=$1 cellweave=$2 dir=$3 seconds=$4
targets=${TARGETS:-mtx tenx-dir tenx-h5 h5ad}
mkdir -p "$dir/crashes" "$dir/scratch"
# Each input is written to a file and read back: on a disk file system the writes, not the
# readers, would take most of the time.
scratch="$dir/scratch"
# (a container's /dev/shm may be small: 256 MB free at least, or the disk it is)
if [[ -d /dev/shm && -w /dev/shm ]] && (( $(df --output=avail -k /dev/shm | tail -1) > 262144 )); then
  scratch=$(mktemp -d /dev/shm/cellweave-fuzz.XXXXXX); trap 'rm -rf "$scratch"' EXIT
fi
# Reads refuse shapes beyond 1 GiB (MemoryLimit), under the 4 GiB libFuzzer allows a process.
export TMPDIR="$scratch" CELLWEAVE_HDF5_READ_TIMEOUT=1 CELLWEAVE_MAX_MEMORY=1G
export LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp"
status=0
record() { printf '%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$1" "$seconds" "${2:-0}" >> "$dir/totals.tsv"; }
for target in $targets; do
  log="$dir/$target.log"
  common=(-max_total_time="$seconds" -rss_limit_mb=4096 -artifact_prefix="$dir/crashes/$target-")
  if [[ $target == mtx || $target == tenx-dir ]]; then
    CELLWEAVE_FUZZ_TARGET=$target "$fuzzer" "$dir/$target" "${common[@]}" -timeout=10 -print_final_stats=1 > "$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
    record "$target" "$runs"
    if [[ $rc != 0 ]]; then echo "$target: FAILED (exit $rc)"; tail -30 "$log"; status=1; continue; fi
    echo "$target: ${runs:-?} inputs in $seconds s, no crash"
  else
    # A short timeout (1 s, the least libFuzzer takes): libhdf5's loop in H5HG_read on a damaged
    # global heap, where most corrupted files that hang end, would otherwise take most of the time.
    # Its crashes are replayed below, not read here: unsymbolised reports, or symbolising each
    # (llvm-symbolizer over the whole binary) takes seconds a crash.
    # The watchdog (CCrashGuard) ends an input whose read loops after 0.2 s, before libFuzzer's
    # timeout: most hangs then cost a fifth of a second, not a second and a kept artifact.
    CELLWEAVE_HDF5_READ_TIMEOUT=0.2 ASAN_OPTIONS=symbolize=0 CELLWEAVE_FUZZ_TARGET=$target "$fuzzer" "$dir/$target" "${common[@]}" -timeout=1 -fork="${FUZZ_JOBS:-1}" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      > "$log" 2>&1
    runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    record "$target" "$runs"
    # Replayed FUZZ_JOBS at a time; the watchdog allows a fifth of a second here too (the kept
    # timeouts are libhdf5's loops), and exit 1 with its error is a clean refusal.
    extension=$([[ $target == h5ad ]] && echo h5ad || echo h5)
    found=$(find "$dir/crashes" -maxdepth 1 -name "$target-*" | wc -l)
    report=$(find "$dir/crashes" -maxdepth 1 -name "$target-*" -print0 |
      CELLWEAVE_HDF5_READ_TIMEOUT=0.2 xargs -0 -r -P "${FUZZ_JOBS:-1}" -I{} bash -c '
        work=$(mktemp -d "$0/replay.XXXXXX")
        cp "$1" "$work/input.$2"
        timeout 120 "$3" convert "$work/input.$2" -o "$work/output.h5ad" > /dev/null 2> "$work/err"
        rc=$?
        [[ $rc == 0 || $rc == 1 ]] || echo "$1 makes cellweave exit $rc: $(tail -3 "$work/err")"
        rm -rf "$work"' "$scratch" {} "$extension" "$cellweave")
    bad=$(grep -c "makes cellweave exit" <<< "$report")
    [[ -n $report ]] && echo "$report"
    echo "$target: ${runs:-?} inputs in $seconds s; $found kept by libFuzzer as crashes or timeouts (libhdf5's), $bad of them not refused cleanly by cellweave"
    [[ $bad == 0 ]] || status=1
  fi
done
echo "inputs so far in $dir/totals.tsv:"
awk -F'\t' '{ n[$2] += $4 } END { for (t in n) printf "  %s %d\n", t, n[t] }' "$dir/totals.tsv"
exit $status
