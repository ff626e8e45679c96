"""Streams from our Host with the REFERENCE Python client (xbox-smartglass-nano).

Usage: sim_host_reference_client.py TCP_PORT UDP_PORT MIN_FRAMES

Drives xbox.nano.protocol.NanoProtocol against 127.0.0.1 with a minimal client
object, waits for MIN_FRAMES rendered video frames, then adds a controller,
sends one input frame and waits for the rumble answer. Prints
"FRAME <sha256> <len>" per rendered frame, "FORMAT ..." and "RUMBLE ..." lines,
and exits non-zero on timeout.
"""
import asyncio
import hashlib
import sys
from datetime import datetime

from xbox.nano.protocol import NanoProtocol
from xbox.nano.enum import ChannelClass
from xbox.nano import channel as nano_channel
from xbox.nano.packet.input import (
    frame, input_frame_buttons, input_frame_analog, input_frame_extension,
)


class MiniClient:
    def __init__(self):
        self.protocol = None
        self.frames = []
        self.audio_packets = 0
        self.video_fmt = None
        self.audio_fmt = None

    def open(self, protocol):
        self.protocol = protocol

    def close(self):
        pass

    def set_video_format(self, fmt):
        self.video_fmt = fmt

    def set_audio_format(self, fmt):
        self.audio_fmt = fmt

    def render_video(self, data):
        self.frames.append(bytes(data))

    def render_audio(self, data):
        self.audio_packets += 1


RUMBLE = []


def on_feedback_frame(self, msg):
    a = msg.payload.analog
    RUMBLE.append((a.rumble_trigger_l, a.rumble_trigger_r))


nano_channel.InputFeedbackChannel.on_frame = on_feedback_frame


async def wait_for(pred, timeout, what):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            print("TIMEOUT waiting for " + what, flush=True)
            sys.exit(2)
        await asyncio.sleep(0.05)


async def main():
    tcp_port, udp_port, min_frames = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    client = MiniClient()
    proto = NanoProtocol(client, "127.0.0.1", "session", tcp_port, udp_port)
    await proto.start()
    await proto.connect()
    await wait_for(lambda: len(client.frames) >= min_frames, 20, "video frames")
    print("FORMAT video %dx%d audio codec %s" % (
        client.video_fmt.width, client.video_fmt.height, client.audio_fmt.codec), flush=True)

    proto.get_channel(ChannelClass.Control).controller_added(0)

    def input_ready():
        ch = proto.get_channel(ChannelClass.Input)
        fb = proto.get_channel(ChannelClass.InputFeedback)
        return ch is not None and ch.reference_timestamp is not None and fb is not None and fb.open

    await wait_for(input_ready, 10, "input channels")
    # Give the InputFeedback handshake a moment to complete.
    await asyncio.sleep(0.2)
    packet = frame(
        buttons=input_frame_buttons(a=1).container,
        analog=input_frame_analog(left_trigger=50, right_trigger=60).container,
        extension=input_frame_extension(byte_6=1).container,
    )
    proto.get_channel(ChannelClass.Input).send_frame(packet, datetime.utcnow())
    await wait_for(lambda: len(RUMBLE) >= 1, 10, "rumble")
    print("RUMBLE %d %d" % RUMBLE[0], flush=True)

    for f in client.frames:
        print("FRAME %s %d" % (hashlib.sha256(f).hexdigest(), len(f)), flush=True)
    print("AUDIO %d" % client.audio_packets, flush=True)
    await proto.stop()


asyncio.run(main())
