#!/usr/bin/env bash
# The phase table: every step from the plain NumPy reference to `fast`, then `realtime` (the cached kind of
# variant, approximate) and `fast` on two cores (experiments/ab/fast_pipeline.toml), on one clip.
#   bash experiments/phases.sh CLIP_PATH OUT_DIR [FRAMES]
# Single thread, pinned (as TIMING.md's C++ single-thread figures): one profiled run per phase,
# whose CSV is then compared with the C++ reference (AU post-processing needs the whole clip
# for the AU figures to be comparable; FRAMES is for quick looks).
set -euo pipefail
clip=$1 out=$2 frames=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
threads=(env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 OPENCV_FOR_THREADS_NUM=1)
mkdir -p "$out/results" "$out/runs"
stem=$(basename "${clip%.*}")
phase=0
root=$(cd "$here/.." && pwd)
configs=(reference "$here/phases/p1_landmarks.toml" "$here/phases/p2_detect.toml" fast)
[[ -f "$root/aubench/presets/realtime.toml" ]] && configs+=(realtime)
configs+=("$here/ab/fast_pipeline.toml")
for config in "${configs[@]}"; do
    name=$phase-$(basename "${config%.toml}")  # the phase number first: the report keeps this order
    phase=$((phase + 1))
    limit=()
    [[ -n "$frames" ]] && limit=(--frames "$frames")
    cores=0
    [[ "$config" == *pipeline* ]] && cores=0,1  # one video on two cores
    echo "== $name on $stem (cores $cores)" >&2
    "${threads[@]}" taskset -c "$cores" aubench profile "$clip" --config "$config" "${limit[@]}" --out-dir "$out/runs/$name" \
        -o "$out/results/${stem}_${name}_profile.json" > "$out/runs/${stem}_${name}_profile.txt"
    # FAIL lines are figures, not errors: the exit status of a parity check is not this script's
    aubench parity "$clip" --config "$config" "${limit[@]}" --ours "$out/runs/$name/$stem.csv" \
        -o "$out/results/${stem}_${name}_parity.json" > "$out/runs/${stem}_${name}_parity.txt" || true
done
