"""A Nano HOST (the console side of the gamestream) built from the REFERENCE
implementation's packers and parsers (xbox-smartglass-nano 0.10.1, xbox.nano).

Usage: reference_nano_host.py [options]   (driven by tests/reference_host.rs)

Listens on 127.0.0.1 (TCP control socket + UDP data socket), prints
"LISTEN <tcp_port> <udp_port>", accepts one client and performs the host side
of the handshake: control handshake, Channel Create/Open of Video, Audio,
ChatAudio and Control (Input and InputFeedback once the client reports a
controller, or when it opens them itself), the video/audio server handshakes
with their formats, the ChatAudio and InputFeedback reversed handshakes, and
the UDP handshake. Every packet it sends is built with xbox.nano's factory /
packet structs and xbox.nano.packer; every packet the client sends (TCP and
UDP) is parsed with xbox.nano.packer.unpack. A packet the reference cannot
parse is printed as "UNPARSED <transport>:<channel> <hex> # <error>"; one it
parses but a host would not expect there (wrong connection id, a payload type
the client does not send) as "UNEXPECTED <transport>:<channel> <hex> # <why>".

Once the client has started the video stream and its UDP address is known,
the host sends --frames video frames (at --fps, each frame's chunks paced at
--pace-bps, or in one burst when 0), then prints "SENT_ALL", keeps the TCP
session (and its telemetry) alive until the client disconnects, and prints
"SUMMARY key=value ..." before it exits.

Frame payloads are not H.264: frame `index` of `size` bytes is
b"XNRF" + index, frame id, size (uint32 LE each) followed by
byte j = ((j * 7 + index * 13) ^ (j >> 8)) & 0xFF for 16 <= j < size,
so the client side can check every delivered byte. Each frame is logged as
"FRAME <index> <frame_id> <keyframe 0/1> <size>" before its first chunk goes out.

Other lines: "VCTRL <flags hex>" per video control (flags byte as on the wire,
MSB first: request keyframe 0x20, start 0x10, stop 0x08, queue depth 0x04,
lost frames 0x02, last displayed frame 0x01), "RESTART <id>", "SILENCE <secs>",
"RESUME", "TIMEOUT <what>".
"""
import argparse
import random
import socket
import struct
import sys
import threading
import time
from datetime import datetime

from construct import Int32ul

from xbox.nano import factory, packer
from xbox.nano.packet import message, video, audio, input as nano_input
from xbox.nano.enum import (
    RtpPayloadType, ChannelControlPayloadType, ChannelClass, VideoPayloadType,
    AudioPayloadType, InputPayloadType, ControlPayloadType, ControllerEvent,
    VideoCodec, AudioCodec,
)

# The channel ids a console uses (as captured; our simulator uses the same).
CHANNEL_IDS = {
    ChannelClass.Video: 1024,
    ChannelClass.Audio: 1025,
    ChannelClass.ChatAudio: 1026,
    ChannelClass.Control: 1027,
    ChannelClass.Input: 1028,
    ChannelClass.InputFeedback: 1029,
}
CONTROL_OPEN_FLAGS = b"\x01\x00\x02\x00"
CHUNK = 1400
DATA_FLAG_04 = 0x04
DATA_KEYFRAME = 0x02


def frame_payload(index, frame_id, size):
    head = b"XNRF" + struct.pack("<III", index, frame_id & 0xFFFFFFFF, size)
    if size <= len(head):
        return head[:size]
    i13 = index * 13
    body = bytes((((j * 7 + i13) ^ (j >> 8)) & 0xFF) for j in range(16, size))
    return head + body


class Chan:
    """What packer.unpack needs to know about a channel: its class (.name)."""

    def __init__(self, name):
        self.name = name
        self.tcp_seq = 0
        self.rtp_seq = 0
        self.client_opened = False


class Host:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.out_lock = threading.Lock()
        self.connection_id = random.randint(20000, 40000)
        self.reference_dt = datetime.utcnow()
        self.reference_t = time.monotonic()
        self.channels = {}  # channel id -> Chan (what the host created)
        self.tcp = None
        self.udp = None
        self.client_udp = None
        self.closed = threading.Event()
        self.video_started = False
        self.keyframe_pending = False
        self.silent = False
        self.video_initial_frame_id = None
        self.input_initial_frame_id = random.randint(0, 1 << 31)
        self.feedback_ready = False
        self.next_feedback_id = 0
        # Counters for the summary.
        self.unparsed = 0
        self.unexpected = 0
        self.tcp_parsed = 0
        self.udp_parsed = 0
        self.input_frames = 0
        self.input_frame_ids = []
        self.video_controls = []
        self.keyframe_requests = 0
        self.lost_reports = 0
        self.udp_handshakes = 0
        self.audio_started = False
        self.chat_audio_handshake = False
        self.input_client_handshake = False
        self.feedback_server_handshake = False
        self.controller_events = 0
        self.frames_sent = 0
        self.keyframes_sent = 0
        self.udp_packets_sent = 0

    # ------------------------------------------------------------ output

    def say(self, line):
        with self.out_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def micros(self):
        return int((time.monotonic() - self.reference_t) * 1e6)

    # ------------------------------------------------------------ sending

    def send_tcp(self, msg):
        data = packer.pack_tcp([msg], self.channels)
        with self.lock:
            try:
                self.tcp.sendall(data)
            except OSError:
                self.closed.set()

    def send_channel_create_open(self, cls):
        cid = CHANNEL_IDS[cls]
        with self.lock:
            if cid in self.channels:
                return
            self.channels[cid] = Chan(cls)
        self.send_tcp(factory.channel.create(cls, 0, cid))
        flags = CONTROL_OPEN_FLAGS if cls == ChannelClass.Control else b""
        self.send_tcp(factory.channel.open(flags, cid))

    def send_tcp_streamer(self, cls, payload_type, payload):
        cid = CHANNEL_IDS[cls]
        with self.lock:
            ch = self.channels[cid]
            prev = ch.tcp_seq
            ch.tcp_seq += 1
            seq = ch.tcp_seq
            msg = factory.streamer_tcp(seq, prev, payload_type, payload, channel_id=cid)
            self.send_tcp(msg)

    def pack_udp(self, cls, payload_type, payload, rtp_ts):
        cid = CHANNEL_IDS[cls]
        with self.lock:
            ch = self.channels[cid]
            ch.rtp_seq = (ch.rtp_seq + 1) & 0xFFFF
            seq = ch.rtp_seq
        msg = factory.streamer_udp(
            payload_type, payload, connection_id=self.connection_id,
            channel_id=cid, sequence_num=seq, timestamp=rtp_ts & 0xFFFFFFFF,
        )
        return packer.pack(msg, self.channels)

    def send_udp(self, data):
        if self.silent or self.client_udp is None:
            return False
        try:
            self.udp.sendto(data, self.client_udp)
            self.udp_packets_sent += 1
            return True
        except OSError:
            return False

    def send_control_msg(self, opcode, payload):
        cid = CHANNEL_IDS[ChannelClass.Control]
        with self.lock:
            prev = self.channels[cid].tcp_seq
            msg = factory.control.control_header(
                prev_seq_dup=prev, unk1=1, unk2=1406, opcode=opcode,
                payload=payload.container,
            )
            self.send_tcp_streamer(ChannelClass.Control, 0, msg)

    def send_telemetry(self):
        # The keys and values of a captured telemetry message.
        data = [dict(key=k, value=v) for k, v in ((12, 0), (7, 0), (11, 1), (6, 0), (1, 0), (5, 52))]
        self.send_control_msg(
            ControlPayloadType.RealtimeTelemetry,
            factory.control.realtime_telemetry(data=data),
        )

    # ------------------------------------------------------------ receiving

    def unparsed_packet(self, where, data, err):
        self.unparsed += 1
        self.say("UNPARSED %s %s # %s" % (where, data.hex(), str(err).replace("\n", " ")[:200]))

    def tcp_loop(self):
        buf = b""
        while not self.closed.is_set():
            try:
                data = self.tcp.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            buf += data
            while len(buf) >= 4:
                size = Int32ul.parse(buf[:4])
                if len(buf) < 4 + size:
                    break
                pkt, buf = buf[4:4 + size], buf[4 + size:]
                self.on_packet(pkt, None)
        if buf:
            self.unparsed_packet("tcp:framing", buf, "trailing bytes at EOF")
        self.closed.set()

    def udp_loop(self):
        self.udp.settimeout(0.2)
        while not self.closed.is_set():
            try:
                data, addr = self.udp.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            self.on_packet(data, addr)

    def on_packet(self, data, addr):
        transport = "tcp" if addr is None else "udp"
        cid = struct.unpack(">H", data[10:12])[0] if len(data) >= 12 else -1
        try:
            with self.lock:
                msg = packer.unpack(data, self.channels)
        except Exception as e:  # the reference cannot parse it
            self.unparsed_packet("%s:%d" % (transport, cid), data, repr(e))
            return
        if addr is None:
            self.tcp_parsed += 1
        else:
            self.udp_parsed += 1
        try:
            self.dispatch(msg, addr)
        except Exception as e:  # parsed, but not what a host expects here
            self.unexpected += 1
            self.say("UNEXPECTED %s:%d %s # %s" % (
                transport, cid, data[:64].hex(), str(e).replace("\n", " ")[:200]))

    def dispatch(self, msg, addr):
        pt = msg.header.flags.payload_type
        cid = msg.header.ssrc.channel_id
        if pt == RtpPayloadType.Control:
            if msg.payload.type != ChannelControlPayloadType.ClientHandshake:
                raise ValueError("control handshake of type %r" % msg.payload.type)
            self.on_control_handshake(msg.payload.connection_id)
        elif pt == RtpPayloadType.ChannelControl:
            self.on_channel_control(cid, msg.payload)
        elif pt == RtpPayloadType.UDPHandshake:
            if addr is None:
                raise ValueError("UDP handshake over TCP")
            if msg.header.ssrc.connection_id != self.connection_id:
                raise ValueError("UDP handshake with connection id %d, host's is %d"
                                 % (msg.header.ssrc.connection_id, self.connection_id))
            self.udp_handshakes += 1
            if self.client_udp is None:
                self.client_udp = addr
                self.say("UDP_PEER %s:%d" % addr)
        elif pt == RtpPayloadType.Streamer:
            if addr is not None and self.client_udp is not None and addr != self.client_udp:
                raise ValueError("UDP from %r, handshake came from %r" % (addr, self.client_udp))
            self.on_streamer(cid, msg)
        else:
            raise ValueError("payload type %r" % pt)

    def on_control_handshake(self, client_connection_id):
        self.say("CLIENT_HANDSHAKE %d" % client_connection_id)
        msg = message.struct(
            header=factory.header(payload_type=RtpPayloadType.Control),
            payload=message.channel_control_handshake(
                type=ChannelControlPayloadType.ServerHandshake,
                connection_id=self.connection_id,
            ),
        )
        self.send_tcp(msg)
        for cls in (ChannelClass.Video, ChannelClass.Audio, ChannelClass.ChatAudio,
                    ChannelClass.Control):
            self.send_channel_create_open(cls)

    def on_channel_control(self, cid, payload):
        t = payload.type
        if t == ChannelControlPayloadType.ChannelOpen:
            if cid not in self.channels:
                # The client may open Input / InputFeedback first.
                if cid in (CHANNEL_IDS[ChannelClass.Input], CHANNEL_IDS[ChannelClass.InputFeedback]):
                    cls = [c for c, i in CHANNEL_IDS.items() if i == cid][0]
                    self.send_channel_create_open(cls)
                else:
                    raise ValueError("Channel Open of unknown channel %d" % cid)
            ch = self.channels[cid]
            if ch.client_opened:
                return
            ch.client_opened = True
            self.say("OPENED %s" % ch.name.name)
            self.on_client_open(ch.name)
        elif t == ChannelControlPayloadType.ChannelClose:
            self.say("CLOSED %d" % cid)
        else:
            raise ValueError("channel control %r from the client" % t)

    def on_client_open(self, cls):
        w, h, fps = self.args.width, self.args.height, self.args.fps
        if cls == ChannelClass.Video:
            fmt = video.fmt(fps=fps, width=w, height=h, codec=VideoCodec.H264, rgb=None)
            hs = factory.video.server_handshake(
                protocol_version=5, width=w, height=h, fps=fps,
                reference_timestamp=self.reference_dt, formats=[fmt.container],
            )
            self.send_tcp_streamer(cls, VideoPayloadType.ServerHandshake, hs)
        elif cls == ChannelClass.Audio:
            fmt = audio.fmt(channels=2, sample_rate=48000, codec=AudioCodec.Opus, pcm=None)
            hs = factory.audio.server_handshake(
                protocol_version=4, reference_timestamp=self.reference_dt,
                formats=[fmt.container],
            )
            self.send_tcp_streamer(cls, AudioPayloadType.ServerHandshake, hs)
        elif cls == ChannelClass.Input:
            hs = factory.input.server_handshake(
                protocol_version=3, desktop_width=w, desktop_height=h,
                max_touches=0, initial_frame_id=self.input_initial_frame_id,
            )
            self.send_tcp_streamer(cls, InputPayloadType.ServerHandshake, hs)
            self.send_channel_create_open(ChannelClass.InputFeedback)

    def on_streamer(self, cid, msg):
        ch = self.channels.get(cid)
        if ch is None:
            raise ValueError("streamer packet on unknown channel %d" % cid)
        cls = ch.name
        st = msg.header.streamer.type
        p = msg.payload
        if cls == ChannelClass.Video:
            if st == VideoPayloadType.ClientHandshake:
                self.video_initial_frame_id = p.initial_frame_id
                self.say("VIDEO_CLIENT_HANDSHAKE %d %dx%d" % (
                    p.initial_frame_id, p.requested_format.width, p.requested_format.height))
            elif st == VideoPayloadType.Control:
                self.on_video_control(p)
            else:
                raise ValueError("video payload %r from the client" % st)
        elif cls == ChannelClass.Audio:
            if st == AudioPayloadType.ClientHandshake:
                self.say("AUDIO_CLIENT_HANDSHAKE codec %s" % p.requested_format.codec)
            elif st == AudioPayloadType.Control:
                if p.flags.start_stream:
                    self.audio_started = True
            else:
                raise ValueError("audio payload %r from the client" % st)
        elif cls == ChannelClass.ChatAudio:
            if st == AudioPayloadType.ServerHandshake:
                self.chat_audio_handshake = True
                fmt = p.formats[0]
                ch_hs = factory.audio.client_handshake(
                    initial_frame_id=random.randint(0, 1 << 31), requested_format=fmt)
                self.send_tcp_streamer(cls, AudioPayloadType.ClientHandshake, ch_hs)
            elif st in (AudioPayloadType.Control, AudioPayloadType.Data):
                pass
            else:
                raise ValueError("chat audio payload %r from the client" % st)
        elif cls == ChannelClass.Control:
            op = p.opcode
            if op == ControlPayloadType.ControllerEvent:
                self.controller_events += 1
                if p.payload.event == ControllerEvent.Added:
                    self.send_channel_create_open(ChannelClass.Input)
        elif cls == ChannelClass.Input:
            if st == InputPayloadType.ClientHandshake:
                self.input_client_handshake = True
            elif st == InputPayloadType.Frame:
                self.on_input_frame(p)
            else:
                raise ValueError("input payload %r from the client" % st)
        elif cls == ChannelClass.InputFeedback:
            if st == InputPayloadType.ServerHandshake:
                self.feedback_server_handshake = True
                self.next_feedback_id = p.initial_frame_id
                hs = factory.input.client_handshake(
                    max_touches=0, reference_timestamp=self.reference_dt)
                self.send_tcp_streamer(cls, InputPayloadType.ClientHandshake, hs)
                self.feedback_ready = True
            elif st == InputPayloadType.FrameAck:
                pass
            else:
                raise ValueError("input feedback payload %r from the client" % st)

    def on_video_control(self, p):
        f = p.flags
        byte = ((0x20 if f.request_keyframe else 0) | (0x10 if f.start_stream else 0)
                | (0x08 if f.stop_stream else 0) | (0x04 if f.queue_depth else 0)
                | (0x02 if f.lost_frames else 0) | (0x01 if f.last_displayed_frame else 0))
        self.video_controls.append(byte)
        self.say("VCTRL 0x%02x" % byte)
        if f.request_keyframe:
            self.keyframe_requests += 1
            self.keyframe_pending = True
        if f.lost_frames:
            self.lost_reports += 1
        if f.start_stream:
            self.video_started = True
        if f.stop_stream:
            self.video_started = False

    def on_input_frame(self, p):
        self.input_frames += 1
        self.input_frame_ids.append(p.frame_id)
        ts = self.micros()
        ack = factory.input.frame_ack(acked_frame=p.frame_id)
        self.send_udp(self.pack_udp(ChannelClass.Input, InputPayloadType.FrameAck, ack, ts))
        if self.feedback_ready:
            fid = self.next_feedback_id
            self.next_feedback_id = (fid + 1) & 0xFFFFFFFF
            a = p.analog
            fb = nano_input.frame(
                frame_id=fid, timestamp=ts, created_ts=ts,
                buttons=nano_input.input_frame_buttons().container,
                analog=nano_input.input_frame_analog(
                    rumble_trigger_l=a.left_trigger, rumble_trigger_r=a.right_trigger,
                    rumble_handle_l=a.left_trigger, rumble_handle_r=a.right_trigger,
                ).container,
                extension=nano_input.input_frame_extension(byte_6=1).container,
            )
            self.send_udp(self.pack_udp(ChannelClass.InputFeedback, InputPayloadType.Frame, fb, ts))

    # ------------------------------------------------------------ streaming

    def telemetry_loop(self):
        every = self.args.telemetry_ms / 1000.0
        if every <= 0:
            return
        while not self.closed.wait(every):
            cid = CHANNEL_IDS[ChannelClass.Control]
            if cid in self.channels and self.channels[cid].client_opened:
                self.send_telemetry()

    def wait_for(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while not pred():
            if self.closed.is_set() or time.monotonic() > end:
                self.say("TIMEOUT %s" % what)
                return False
            time.sleep(0.01)
        return True

    def send_frame(self, index, frame_id, key, size):
        data = frame_payload(index, frame_id, size)
        ts = self.micros()
        count = max(1, (size + CHUNK - 1) // CHUNK)
        flags = DATA_FLAG_04 | (DATA_KEYFRAME if key else 0)
        # Pack every chunk first, so that pacing measures only the sending.
        dgrams = []
        for n in range(count):
            off = n * CHUNK
            part = data[off:off + CHUNK]
            payload = factory.video.data(
                flags=flags, frame_id=frame_id, timestamp=ts, total_size=size,
                packet_count=count, offset=off, data=part,
            )
            dgrams.append(self.pack_udp(ChannelClass.Video, VideoPayloadType.Data, payload, ts))
        self.say("FRAME %d %d %d %d" % (index, frame_id, 1 if key else 0, size))
        bps = self.args.pace_bps
        start = time.monotonic()
        sent_bits = 0
        for d in dgrams:
            if bps > 0:
                due = start + sent_bits / bps
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self.send_udp(d)
            sent_bits += 8 * len(d)
        self.frames_sent += 1
        if key:
            self.keyframes_sent += 1

    def stream(self):
        a = self.args
        ok = self.wait_for(
            lambda: self.video_started and self.client_udp is not None
            and self.video_initial_frame_id is not None,
            a.start_timeout, "video start")
        if not ok:
            return
        frame_id = self.video_initial_frame_id
        interval = 1.0 / a.fps
        next_t = time.monotonic()
        for index in range(a.frames):
            if self.closed.is_set():
                return
            key = False
            if a.silence_at is not None and index == a.silence_at:
                self.silent = True
                self.say("SILENCE %g" % a.silence_secs)
                time.sleep(a.silence_secs)
                self.silent = False
                self.say("RESUME")
                key = True
                next_t = time.monotonic()
            if a.restart_at is not None and index == a.restart_at:
                frame_id = a.restart_id
                self.say("RESTART %d" % frame_id)
                key = True
            if index == 0:
                # A console sends a keyframe first only when asked for one.
                key = key or self.keyframe_pending
            if a.keyframe_interval > 0 and index % a.keyframe_interval == 0 and index > 0:
                key = True
            if self.keyframe_pending:
                key = True
            if key:
                self.keyframe_pending = False
            size = a.keyframe_bytes if key else a.frame_bytes
            self.send_frame(index, frame_id, key, size)
            frame_id = (frame_id + 1) & 0xFFFFFFFF
            next_t += interval
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_t = time.monotonic()

    def summary(self):
        starts = [c for c in self.video_controls if c & 0x10]
        fields = [
            ("frames_sent", self.frames_sent),
            ("keyframes_sent", self.keyframes_sent),
            ("unparsed", self.unparsed),
            ("unexpected", self.unexpected),
            ("tcp_parsed", self.tcp_parsed),
            ("udp_parsed", self.udp_parsed),
            ("input_frames", self.input_frames),
            ("video_controls", ",".join("0x%02x" % c for c in self.video_controls) or "-"),
            ("first_start_flags", "0x%02x" % starts[0] if starts else "-"),
            ("keyframe_requests", self.keyframe_requests),
            ("lost_reports", self.lost_reports),
            ("udp_handshakes", self.udp_handshakes),
            ("audio_started", int(self.audio_started)),
            ("chat_audio_handshake", int(self.chat_audio_handshake)),
            ("input_client_handshake", int(self.input_client_handshake)),
            ("feedback_server_handshake", int(self.feedback_server_handshake)),
            ("controller_events", self.controller_events),
            ("udp_packets_sent", self.udp_packets_sent),
        ]
        self.say("SUMMARY " + " ".join("%s=%s" % kv for kv in fields))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp-port", type=int, default=0)
    ap.add_argument("--udp-port", type=int, default=0)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--pace-bps", type=float, default=0.0)
    ap.add_argument("--keyframe-bytes", type=int, default=40000)
    ap.add_argument("--frame-bytes", type=int, default=8000)
    ap.add_argument("--keyframe-interval", type=int, default=0)
    ap.add_argument("--restart-at", type=int, default=None)
    ap.add_argument("--restart-id", type=int, default=1000)
    ap.add_argument("--silence-at", type=int, default=None)
    ap.add_argument("--silence-secs", type=float, default=8.0)
    ap.add_argument("--telemetry-ms", type=int, default=1000,
                    help="RealtimeTelemetry on TCP every N ms (0: never)")
    ap.add_argument("--start-timeout", type=float, default=30.0)
    ap.add_argument("--timeout", type=float, default=180.0,
                    help="give up and exit after this many seconds in total")
    args = ap.parse_args()

    host = Host(args)
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", args.tcp_port))
    lst.listen(1)
    host.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host.udp.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    host.udp.bind(("127.0.0.1", args.udp_port))
    host.say("LISTEN %d %d" % (lst.getsockname()[1], host.udp.getsockname()[1]))

    def watchdog():
        if not host.closed.wait(args.timeout):
            host.say("TIMEOUT overall")
            host.closed.set()
            try:
                host.tcp.shutdown(socket.SHUT_RDWR)
            except Exception:
                pass

    lst.settimeout(args.start_timeout)
    try:
        host.tcp, _ = lst.accept()
    except socket.timeout:
        host.say("TIMEOUT accept")
        host.summary()
        return 2
    host.tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lst.close()
    threads = [threading.Thread(target=f, daemon=True)
               for f in (host.tcp_loop, host.udp_loop, host.telemetry_loop, watchdog)]
    for t in threads:
        t.start()
    host.stream()
    host.say("SENT_ALL %d" % host.frames_sent)
    host.closed.wait()
    time.sleep(0.1)  # let the UDP reader finish the last datagrams
    host.summary()
    return 0


if __name__ == "__main__":
    sys.exit(main())
