#!/usr/bin/env bash
# Catalog probing benchmark: seconds of audio probed per second of wall time by
# `shengbo catalog --no-cache` (decode + sha256 + integrated loudness + true peak + gate stats),
# against `ffmpeg -af ebur128=peak=true -f null -` on the same files with the same parallelism,
# plus how closely the two agree on integrated loudness.
#
# Usage: benches/catalog_probe.sh [clips-per-language] [seconds-per-clip]   (default 12 60)
# Needs: cargo, ffmpeg, awk, xargs. Writes its corpus to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-12}
secs=${2:-60}
jobs=$(nproc)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --quiet --bin shengbo
bin=$CARGO_TARGET_DIR/release/shengbo

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT

# A speech-like corpus: pink noise shaped by a syllable-rate envelope over a gliding tone,
# 44.1 kHz stereo MP3 at 128 kbit/s (a typical recording handed in by staff), different per clip.
for i in $(seq 1 "$n"); do
  for lang in ii zh; do
    l=$([ "$lang" = ii ] && echo 1 || echo 2)
    d=$corpus/audio/bench-$i
    mkdir -p "$d"
    seed=$((i * 2 + l))
    f=$((150 + (i * 37 + l * 61) % 200))
    expr="(0.25*sin(2*PI*${f}*t*(1+0.05*sin(t*${l})))+0.05*random(${seed}))*pow(abs(sin(PI*t*(2.${l}+0.${i}))),2)"
    ffmpeg -loglevel error -y -f lavfi -i "aevalsrc='${expr}|${expr}':s=44100:d=${secs}" \
      -c:a libmp3lame -b:a 128k "$d/$lang.mp3"
  done
  printf 'title_zh = "基准%s"\ntopic = "bench"\n[text]\nii = "-"\nzh = "-"\n' "$i" > "$d/message.toml"
done
files=$(find "$corpus/audio" -name '*.mp3' | sort)
count=$(echo "$files" | wc -l)
total=$(awk -v n="$count" -v s="$secs" 'BEGIN{print n * s}')

now() { date +%s.%N; }

t0=$(now)
"$bin" --root "$corpus" --data-dir "$corpus/.data" catalog --no-cache --json > "$corpus/ours.json" || true
t1=$(now)
echo "$files" | xargs -P "$jobs" -I{} sh -c \
  'ffmpeg -hide_banner -nostats -threads 1 -i "$1" -af ebur128=peak=true -f null - 2>&1 \
   | awk -v f="$1" "/^ +I:/{i=\$2} END{print f, i}"' _ {} > "$corpus/ffmpeg.txt"
t2=$(now)

ours=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}')
theirs=$(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.2f", b - a}')

# Loudness agreement: our JSON rows (file, lufs) against ffmpeg's integrated loudness.
grep -E '"(file|lufs)"' "$corpus/ours.json" | sed -E 's/.*: "?([^",]*)"?,?/\1/' | paste - - \
  | awk -v root="$corpus/" 'NR==FNR {lufs[root $1]=$2; next}
      { d = lufs[$1] - $2; if (d < 0) d = -d; if (d > max) max = d; sum += d; n++ }
      END { printf "%d files compared, max |ΔI| %.3f LU, mean %.3f LU\n", n, max, sum / n }' \
      - "$corpus/ffmpeg.txt" > "$corpus/agree.txt"

echo "machine:  $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "corpus:   $count MP3 clips x ${secs} s = ${total} s of audio (44.1 kHz stereo, 128 kbit/s)"
echo "shengbo:  ${ours} s wall  -> $(awk -v t="$total" -v w="$ours" 'BEGIN{printf "%.0f", t / w}') s of audio per s (rayon, $jobs threads)"
echo "ffmpeg:   ${theirs} s wall  -> $(awk -v t="$total" -v w="$theirs" 'BEGIN{printf "%.0f", t / w}') s of audio per s (xargs -P $jobs, -threads 1)"
echo "speed-up: $(awk -v a="$ours" -v b="$theirs" 'BEGIN{printf "%.2f", b / a}')x ffmpeg"
echo "loudness: $(cat "$corpus/agree.txt")"
