#!/usr/bin/env bash
# Rendering benchmark (not a test): release `shengbo render` and loudness-adjusted clip encoding
# of the demo catalog (audio/*/), against an ffmpeg pipeline producing the same programme:
# two-pass `loudnorm` (linear) per clip, resampled to 48 kHz mono, concatenated with the same
# gaps. Prints a Markdown report; paste it under `## Rendering` in BENCHMARKS.md.
#
#   benches/render.sh [runs]        (default 5; the median run is reported)
#
# Needs: cargo, ffmpeg/ffprobe; espeak-ng only when audio/ holds no message to render (then a
# comparable corpus of four pairs is generated in a temporary folder).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
gap=1.5
target=-16
ceiling=-1
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin=$CARGO_TARGET_DIR/release/shengbo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
first_clip() { ls "$1"/"$2".* 2>/dev/null | head -n1; }

# --- the corpus ------------------------------------------------------------------------------
root=$repo
ids=()
for d in "$repo"/audio/*/; do
  [ -d "$d" ] || continue
  if [ -n "$(first_clip "$d" ii)" ] && [ -n "$(first_clip "$d" zh)" ]; then
    ids+=("$(basename "$d")")
  fi
done
if [ ${#ids[@]} -eq 0 ]; then
  root=$work/project
  texts=("jing cha bu hui da dian hua yao qiu zhuan zhang" "bu yao can jia fei fa ji zi"
    "bu yao xiang xin jia de wei quan dai li" "bu yao chu zu chu jie yin hang ka")
  for n in 0 1 2 3; do
    d=$root/audio/generated-$n
    mkdir -p "$d"
    espeak-ng -v cmn-latn-pinyin -s 150 -w "$work/zh.wav" "${texts[$n]} ${texts[$n]} ${texts[$n]}"
    ffmpeg -loglevel error -y -i "$work/zh.wav" -ar 22050 -ac 1 -b:a 40k "$d/zh.mp3"
    ffmpeg -loglevel error -y -f lavfi -i "sine=f=$((385 + 55 * n)):d=12:r=44100" \
      -af "volume=-$((10 + 6 * n))dB" -ac 2 -b:a 64k "$d/ii.mp3"
    ids+=("generated-$n")
  done
fi
msg_args=()
clips=()
for id in "${ids[@]}"; do
  msg_args+=(--message "$id")
  clips+=("$(first_clip "$root/audio/$id" ii)" "$(first_clip "$root/audio/$id" zh)")
done
src_s=0
for c in "${clips[@]}"; do
  d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$c")
  src_s=$(awk -v a="$src_s" -v b="$d" 'BEGIN{print a + b}')
done

# --- shengbo -------------------------------------------------------------------------------
render_times=()
cold_times=()
warm_times=()
for i in $(seq "$runs"); do
  t0=$(now)
  "$bin" --root "$root" render "${msg_args[@]}" --gap "$gap" -o "$work/shengbo.wav" >"$work/timeline.txt"
  t1=$(now)
  "$bin" --root "$root" render "${msg_args[@]}" --gap "$gap" --adjusted "$work/adj-$i" >/dev/null
  t2=$(now)
  "$bin" --root "$root" render "${msg_args[@]}" --gap "$gap" --adjusted "$work/adj-$i" >/dev/null
  t3=$(now)
  render_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')")
  cold_times+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN{print b - a}')")
  warm_times+=("$(awk -v a="$t2" -v b="$t3" 'BEGIN{print b - a}')")
done

# --- ffmpeg: two-pass linear loudnorm per clip, 48 kHz mono, concat with the same gaps -------
json_field() { grep "\"$1\"" "$2" | head -n1 | sed 's/.*: "\(.*\)".*/\1/'; }
ffmpeg_programme() { # ffmpeg_programme <out.wav>
  local list=$work/concat.txt k=0 norm
  ffmpeg -loglevel error -y -f lavfi -i "anullsrc=r=48000:cl=mono" -t "$gap" -c:a pcm_s16le "$work/gap.wav"
  : >"$list"
  for c in "${clips[@]}"; do
    k=$((k + 1))
    ffmpeg -nostdin -hide_banner -nostats -i "$c" \
      -af "loudnorm=I=$target:TP=$ceiling:LRA=11:print_format=json" -f null - 2>"$work/pass1.txt"
    norm="loudnorm=I=$target:TP=$ceiling:LRA=11:linear=true"
    norm+=":measured_I=$(json_field input_i "$work/pass1.txt")"
    norm+=":measured_TP=$(json_field input_tp "$work/pass1.txt")"
    norm+=":measured_LRA=$(json_field input_lra "$work/pass1.txt")"
    norm+=":measured_thresh=$(json_field input_thresh "$work/pass1.txt")"
    norm+=":offset=$(json_field target_offset "$work/pass1.txt")"
    ffmpeg -nostdin -loglevel error -y -i "$c" -af "$norm,aresample=48000" -ac 1 -c:a pcm_s16le "$work/ff-$k.wav"
    echo "file '$work/ff-$k.wav'" >>"$list"
    [ "$k" -lt ${#clips[@]} ] && echo "file '$work/gap.wav'" >>"$list"
  done
  ffmpeg -loglevel error -y -f concat -safe 0 -i "$list" -c copy "$1"
}
ff_times=()
for i in $(seq "$runs"); do
  t0=$(now)
  ffmpeg_programme "$work/ffmpeg.wav"
  t1=$(now)
  ff_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')")
done

# --- what each produced ----------------------------------------------------------------------
frames() { ffprobe -v error -show_entries stream=duration_ts -of csv=p=0 "$1"; }
ebur() { # ebur <file> [ss len] -> "I TP"
  local args=()
  [ $# -gt 1 ] && args=(-ss "$2" -t "$3")
  ffmpeg -nostdin -hide_banner -nostats "${args[@]}" -i "$1" -af ebur128=peak=true -f null - 2>&1 |
    awk '/Summary:/{s=1} s&&$1=="I:"{i=$2} s&&$1=="Peak:"{p=$2} END{print i, p}'
}
to_s() { awk -F: '{print $1 * 60 + $2}' <<<"$1"; }
ours=()
while read -r start len _; do
  ours+=("$(ebur "$work/shengbo.wav" "$(to_s "$start")" "$(to_s "$len")")")
done < <(grep -E '^[0-9]+:[0-9]{2}\.[0-9]{3} ' "$work/timeline.txt")
theirs=()
for k in $(seq ${#clips[@]}); do theirs+=("$(ebur "$work/ff-$k.wav")"); done
quality() { # quality <"I TP"...>: worst |I - target|, worst pair gap, highest TP
  printf '%s\n' "$@" | awk -v t="$target" '
    {d = $1 - t; if (d < 0) d = -d; if (d > wd) wd = d; if (NR == 1 || $2 > tp) tp = $2
     if (NR % 2 == 0) { g = $1 - prev; if (g < 0) g = -g; if (g > wp) wp = g } prev = $1}
    END {printf "%.1f LU | %.1f LU | %.1f dBTP", wd, wp, tp}'
}

r=$(printf '%s\n' "${render_times[@]}" | median)
c=$(printf '%s\n' "${cold_times[@]}" | median)
w=$(printf '%s\n' "${warm_times[@]}" | median)
f=$(printf '%s\n' "${ff_times[@]}" | median)
prog_s=$(awk -v n="$(frames "$work/shengbo.wav")" 'BEGIN{print n / 48000}')
x() { awk -v d="$1" -v t="$2" 'BEGIN{printf "%.0f× real time", d / t}'; }
cat <<EOF
Corpus: ${#ids[@]} messages ($(basename "$root") $( [ "$root" = "$repo" ] && echo "demo catalog" || echo "generated")),
${#clips[@]} clips, $(printf '%.1f' "$src_s") s of source audio; programme Yi→Mandarin, ${gap} s gaps,
48 kHz mono 16-bit, $(printf '%.1f' "$prog_s") s. Median of $runs runs on $(nproc) cores, $(date -u +%Y-%m-%d).

| pipeline | wall time | speed | worst \|I − target\| | worst pair gap | highest true peak | frames |
| --- | --- | --- | --- | --- | --- | --- |
| \`shengbo render\` (decode, measure, plan, rodio resample, WAV) | $(printf '%.3f' "$r") s | $(x "$prog_s" "$r") | $(quality "${ours[@]}") | $(frames "$work/shengbo.wav") |
| ffmpeg two-pass \`loudnorm\` (linear) + concat | $(printf '%.3f' "$f") s | $(x "$prog_s" "$f") | $(quality "${theirs[@]}") | $(frames "$work/ffmpeg.wav") |
| \`shengbo render --adjusted\` cold (adjusted clips written) | $(printf '%.3f' "$c") s | $(x "$src_s" "$c") | | | | |
| \`shengbo render --adjusted\` warm (all cached) | $(printf '%.3f' "$w") s | $(x "$src_s" "$w") | | | | |

Per clip (shengbo rendered programme, then ffmpeg), integrated LUFS and true peak dBTP:
$(paste -d' ' <(printf '%s\n' "${clips[@]}" | sed "s|$root/||") <(printf '%s\n' "${ours[@]}") <(printf '%s\n' "${theirs[@]}") | awk '{printf "- %s: shengbo %s / %s, ffmpeg %s / %s\n", $1, $2, $3, $4, $5}')
EOF
