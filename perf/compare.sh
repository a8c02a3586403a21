#!/usr/bin/env bash
# perf/compare.sh [BASE]: `acqflow bench` streams, rec and nodes, and perf/chunkcost.py (the
# Python per chunk of send() and recv(), the streams figure noise does not move), at commit BASE (default e24e08a,
# in a temporary git worktree) and at this tree, alternated ROUNDS times, then one table of
# both side by side (perf/compare.py: the best of the rounds, head / base).  Run it on an idle
# machine: the benchmarks measure what the two cores give.
#   ROUNDS=2 (each tree's runs per area)   OUT=DIR (where the JSON and text go; default a temp dir)
#   AREAS="chunkcost streams rec nodes"   STREAMS_ARGS="--seconds 1"   REC_ARGS="--hours 0.05"   NODES_ARGS=""
#   PYTHON=.venv/bin/python (one virtualenv runs both trees: each is first on PYTHONPATH)
set -euo pipefail
head=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-e24e08a}
rounds=${ROUNDS:-2}
areas=${AREAS:-chunkcost streams rec nodes}
py=${PYTHON:-$head/.venv/bin/python}
[ -x "$py" ] || py=/work/main/.venv/bin/python
out=${OUT:-$(mktemp -d /tmp/acqflow-compare.XXXXXX)}
mkdir -p "$out"
tree=$out/base-tree
git -C "$head" worktree add -q --detach "$tree" "$base"
trap 'git -C "$head" worktree remove --force "$tree"' EXIT

declare -A extra=([streams]="${STREAMS_ARGS:---seconds 1}" [rec]="${REC_ARGS:---hours 0.05}"
                  [nodes]="${NODES_ARGS:-}" [chunkcost]="")
# each tree's own `acqflow` entry point (its pyproject.toml's [project.scripts]: the CLI moved)
launch='import importlib, sys, tomllib
target = tomllib.load(open("pyproject.toml", "rb"))["project"]["scripts"]["acqflow"]
module, _, func = target.partition(":")
sys.argv[0] = "acqflow"
sys.exit(getattr(importlib.import_module(module), func)())'

bench() {   # bench LABEL TREE AREA ROUND
    local label=$1 dir=$2 area=$3 round=$4 stem=$out/$1-$3-$4
    echo "== $label ($(git -C "$dir" rev-parse --short HEAD)) $area ${extra[$area]} (round $round)" >&2
    if [ "$area" = chunkcost ]; then    # this tree's script, either tree's acqflow
        (cd "$dir" && PYTHONPATH=$dir "$py" "$head/perf/chunkcost.py" --json "$stem.json") \
            > "$stem.txt" 2>&1 || echo "   failed: see $stem.txt" >&2
        return
    fi
    # shellcheck disable=SC2086
    (cd "$dir" && PYTHONPATH=$dir "$py" -c "$launch" bench "$area" ${extra[$area]} --json "$stem.json") \
        > "$stem.txt" 2>&1 || echo "   failed: see $stem.txt" >&2
}

echo "base $base -> $tree; head $head ($(git -C "$head" rev-parse --short HEAD)$(git -C "$head" diff --quiet || echo ', with changes')); results in $out" >&2
for area in $areas; do
    for round in $(seq 1 "$rounds"); do
        bench base "$tree" "$area" "$round"
        bench head "$head" "$area" "$round"
    done
done
"$py" "$head/perf/compare.py" "$out"
