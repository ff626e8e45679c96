#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/) from the captured test vectors.
# The vectors are read from $XNANO_VECTORS, else ../shared/vectors beside the
# repository; they are copied at run time and never committed (fuzz/corpus is
# git-ignored). Idempotent: existing corpus entries are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
VEC="${XNANO_VECTORS:-$(cd .. && pwd)/shared/vectors}"
if [ ! -d "$VEC/nano/packets" ]; then
  echo "fuzz-seed: no vectors at $VEC (set XNANO_VECTORS); corpora start empty" >&2
  exit 0
fi
python3 - "$VEC" fuzz/corpus <<'PY'
import json, os, struct, sys, hashlib
vec, out = sys.argv[1], sys.argv[2]

def files(rel):
    d = os.path.join(vec, rel)
    return [os.path.join(d, f) for f in sorted(os.listdir(d))] if os.path.isdir(d) else []

def read(p):
    with open(p, "rb") as f:
        return f.read()

def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

nano = {os.path.basename(p): read(p) for p in files("nano/packets")}
# tcp_control_msg_with_header_change_video_quality keeps its length prefix.
for k, v in list(nano.items()):
    if k.endswith("change_video_quality") and len(v) > 4 and struct.unpack("<I", v[:4])[0] == len(v) - 4:
        nano[k] = v[4:]
sg = {os.path.basename(p): read(p) for p in files("smartglass/packets")}
json_msgs = [read(p) for p in files("nano/json_msg")]

def frame(b):
    return struct.pack("<I", len(b)) + b

def blob(b):
    return struct.pack("<H", len(b)) + b

for v in nano.values():
    for t in ("nano_packet", "udp_video", "dissect"):
        put(t, v)
    put("streamer", v[12:])
    put("streamer", bytes([4]) + v[12:])
    for off in (28, 32):
        put("control", v[off:])
    for off in (24, 32):
        put("input", v[off:])
tcp = [v for k, v in sorted(nano.items()) if k.startswith("tcp_")]
udp = [v for k, v in sorted(nano.items()) if k.startswith("udp_")]
put("tcp_deframer", b"\xff\xff" + bytes(range(1, 17)) + b"".join(frame(v) for v in tcp))
put("tcp_deframer", b"\x40\x00" + bytes([3] * 16) + b"".join(frame(v) for v in tcp))
put("dissect", b"".join(frame(v) for v in tcp))

# Session transcripts in the targets' operation formats: op 1 = framed TCP
# packet, op 2 = UDP datagram (client_session); op 1 = framed TCP,
# op 2 = UDP then a source-address byte (host_session). The first byte(s) are the targets' parameters.
order = ["tcp_control_handshake", "tcp_channel_create", "tcp_channel_open_with_flags",
         "tcp_channel_open_no_flags", "tcp_video_server_handshake", "tcp_audio_server_handshake",
         "tcp_video_control", "tcp_audio_control", "tcp_control_msg_with_header",
         "tcp_input_server_handshake", "udp_handshake", "udp_video_data", "udp_audio_data",
         "udp_input_frame", "udp_input_frame_ack", "tcp_channel_close"]
def transcript(udp_suffix):
    ops = b""
    for k in order:
        if k in nano:
            if k.startswith("tcp_"):
                ops += b"\x01" + blob(nano[k]) + b"\x00"
            else:
                ops += b"\x02" + blob(nano[k]) + udp_suffix
    return ops
put("client_session", b"\x00" + transcript(b""))
put("host_session", b"\x10" + transcript(b"\x00"))

for v in sg.values():
    put("sg_decode_any", v)
    put("sg_message", v)
for p in files("smartglass"):
    if p.endswith(".pcap") or p.endswith(".pcapng"):
        put("pcap", read(p))
        put("dissect", read(p))
for m in json_msgs:
    put("sg_json", m)
fj = os.path.join(vec, "smartglass", "json_fragments.json")
if os.path.exists(fj):
    doc = json.loads(read(fj))
    frags = [json.dumps(f).encode() for f in doc.get("fragments", [])]
    put("sg_json", b"\x00".join(frags))
    put("sg_json", b"\x00".join(reversed(frags)))
for t in ("reassembler", "session_pair", "sg_fragments"):
    os.makedirs(os.path.join(out, t), exist_ok=True)
counts = {t: len(os.listdir(os.path.join(out, t))) for t in sorted(os.listdir(out))}
print("fuzz-seed: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
PY
