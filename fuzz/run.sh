#!/usr/bin/env bash
# Runs each fuzz target for a bounded time, one after the other, in one process on one core:
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 60; TARGET to all of them (yaml_scan, commands, event).
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`; set CARGO_FUZZ to its path when it
# is not on PATH). It runs on the stable toolchain: `--sanitizer none` needs no -Z flag, so it
# finds panics, hangs (an input over -timeout) and runaway memory (-rss_limit_mb), which is
# what safe Rust can get wrong.
#
# Seeds come from the repository: the example repos' YAML, GitHub's webhook payload examples
# (../shared/github/payloads when present) and a few comments. New inputs are kept in
# fuzz/corpus/TARGET, a failing input is written to fuzz/artifacts/TARGET/; add it to
# tests/fixtures/fuzz-regressions/TARGET/ (tests/model/fuzz_regressions.rs runs them) when fixing it.
# Exits non-zero when a target failed.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(yaml_scan commands event)
cargo_fuzz=${CARGO_FUZZ:-cargo-fuzz}

seed() {
    local target=$1 dir=seeds/$1
    rm -rf "$dir"
    mkdir -p "$dir" "corpus/$target"
    case $target in
    yaml_scan)
        find ../examples -type f \( -name '*.yaml' -o -name '*.yml' \) |
            while read -r f; do cp "$f" "$dir/$(echo "${f#../}" | tr '/' '_')"; done
        ;;
    event)
        for f in ../../shared/github/payloads/*.json; do
            [ -e "$f" ] || continue
            name=$(basename "$f")
            { printf '%s\n' "${name%%.*}"; cat "$f"; } >"$dir/$name"
        done
        ;;
    commands)
        printf '/ws-fix fix alpn, http\n' >"$dir/fix"
        printf 'Thanks!\n\n> /ws-fix scan\n\n```\n/ws-fix help\n```\n/ws-fix recreate b <!-- x -->\n' >"$dir/quote"
        printf '/ws-fix scan\x00/ws-fix scan\n/ws-fix ignore `alpn`\r\n    /ws-fix\n~~~\n' >"$dir/edit"
        printf 'a `b\nc` /ws-fix\n<!--\n/ws-fix scna\n-->\n/ws-fix unignore enable\n' >"$dir/spans"
        ;;
    esac
    if [ -d "../tests/fixtures/fuzz-regressions/$target" ]; then
        cp ../tests/fixtures/fuzz-regressions/"$target"/* "$dir/" 2>/dev/null || true
    fi
}

max_len() {
    case $1 in
    event) echo 65536 ;;
    yaml_scan) echo 16384 ;;
    *) echo 8192 ;;
    esac
}

status=0
for target in "${targets[@]}"; do
    seed "$target"
    echo "== $target: ${seconds}s"
    if ! "$cargo_fuzz" fuzz run --sanitizer none "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$(max_len "$target")" -print_final_stats=1; then
        echo "== $target FAILED: see fuzz/artifacts/$target/"
        status=1
    fi
done
exit $status
