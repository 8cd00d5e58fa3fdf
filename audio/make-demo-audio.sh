#!/usr/bin/env bash
# Regenerate the demo clips in audio/<message-id>/ from each message.toml.
#
#   zh.mp3  Mandarin, synthesised by espeak-ng (Debian, voice cmn-latn-pinyin) from the
#           pinyin in the `[synth] zh` entry of message.toml (the Chinese text is in `[text]`).
#   ii.mp3  NOT Yi speech: no Nuosu Yi speech synthesiser exists. A synthetic chime pattern
#           stands in, so the pair can be planned and rendered end to end. message.toml says so
#           in `[stand_in]`; bilingual staff replace it with a real recording.
#
# Both are loudness-normalised (-18 LUFS, true peak <= -3 dBTP), mono 22.05 kHz, 40 kbit/s MP3.
# Needs: espeak-ng, ffmpeg (with libmp3lame). Usage: audio/make-demo-audio.sh [message-id...]
set -euo pipefail
cd "$(dirname "$0")"

encode() { # encode <input> <output.mp3>
  ffmpeg -loglevel error -y -i "$1" -af "loudnorm=I=-18:TP=-3:LRA=11" \
    -ar 22050 -ac 1 -c:a libmp3lame -b:a 40k -map_metadata -1 -fflags +bitexact "$2"
}

synth_text() { # synth_text <message.toml> <lang>: the `[synth] <lang> = "..."` string
  awk -v key="$2" '/^\[synth\]/{s=1;next} /^\[/{s=0}
    s && $1==key && $2=="=" {sub(/^[^"]*"/,""); sub(/"[[:space:]]*$/,""); print}' "$1"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ids=("$@")
[ ${#ids[@]} -gt 0 ] || ids=(police-impersonation illegal-fundraising fake-rights-agents bank-sim-card-rental)
n=0
for id in "${ids[@]}"; do
  n=$((n + 1))
  text=$(synth_text "$id/message.toml" zh)
  [ -n "$text" ] || { echo "no [synth] zh text in $id/message.toml" >&2; exit 1; }
  espeak-ng -v cmn-latn-pinyin -s 150 -w "$tmp/zh.wav" "$text"
  encode "$tmp/zh.wav" "$id/zh.mp3"

  # The stand-in: 0.8x the Mandarin length, notes of 0.35 s every 0.5 s on a
  # four-step scale whose base pitch differs per message.
  secs=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/zh.wav")
  len=$(awk -v s="$secs" 'BEGIN{printf "%.2f", s * 0.8}')
  base=$((330 + 55 * n))
  expr="0.4*sin(2*PI*(${base}*(1+0.25*mod(floor(t/0.5)*7+${n},4)))*t)*lt(mod(t,0.5),0.35)*(1-exp(-mod(t,0.5)*60))*exp(-mod(t,0.5)*4)"
  ffmpeg -loglevel error -y -f lavfi -i "aevalsrc='${expr}':s=22050:d=${len}" "$tmp/ii.wav"
  encode "$tmp/ii.wav" "$id/ii.mp3"
  echo "$id: zh ${secs}s, ii stand-in ${len}s"
done
