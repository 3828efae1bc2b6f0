#!/bin/bash
# Runs each fuzz target for SECONDS (make fuzz). The text parsers (mtx, tenx-dir) are CellWeave's
# own code: any crash, trap, leak of a sanitizer report or hang stops the run and fails it. The
# HDF5 targets also drive libhdf5, which faults or loops on some corrupted files by itself; they
# run with libFuzzer's fork mode ignoring those, and every input it kept as a crash or timeout is
# then replayed through the real `cellweave convert`, which must refuse it cleanly (exit 1, with
# the crash guard turning libhdf5's faults into errors): a crash there is CellWeave's and fails.
set -uo pipefail
fuzzer=$1 cellweave=$2 dir=$3 seconds=$4
mkdir -p "$dir/crashes" "$dir/scratch"
export TMPDIR="$dir/scratch" CELLWEAVE_HDF5_READ_TIMEOUT=5
status=0
for target in mtx tenx-dir tenx-h5 h5ad; do
  log="$dir/$target.log"
  common=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$dir/crashes/$target-")
  if [[ $target == mtx || $target == tenx-dir ]]; then
    CELLWEAVE_FUZZ_TARGET=$target "$fuzzer" "$dir/$target" "${common[@]}" -print_final_stats=1 > "$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
    if [[ $rc != 0 ]]; then echo "$target: FAILED (exit $rc)"; tail -30 "$log"; status=1; continue; fi
    echo "$target: ${runs:-?} inputs in $seconds s, no crash"
  else
    CELLWEAVE_FUZZ_TARGET=$target "$fuzzer" "$dir/$target" "${common[@]}" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      > "$log" 2>&1
    runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    found=0 bad=0
    extension=$([[ $target == h5ad ]] && echo h5ad || echo h5)
    for artifact in "$dir"/crashes/"$target"-*; do
      [[ -e $artifact ]] || continue
      found=$((found + 1))
      cp "$artifact" "$dir/scratch/replay.$extension"
      timeout 120 "$cellweave" convert "$dir/scratch/replay.$extension" -o "$dir/scratch/replay-out.h5ad" > /dev/null 2> "$dir/scratch/replay.err"
      rc=$?
      rm -f "$dir/scratch/replay-out.h5ad"
      if [[ $rc != 0 && $rc != 1 ]]; then bad=$((bad + 1)); echo "$target: $artifact makes cellweave exit $rc"; tail -5 "$dir/scratch/replay.err"; fi
    done
    echo "$target: ${runs:-?} inputs in $seconds s; $found kept by libFuzzer as crashes or timeouts (libhdf5's), $bad of them not refused cleanly by cellweave"
    [[ $bad == 0 ]] || status=1
  fi
done
exit $status
