"""Interop peer for tests/smartglass_interop.rs, using the reference
implementation (xbox-smartglass-core).

  python3 sg_interop.py parse  < hex lines   -> one JSON decode per line
  python3 sg_interop.py build                -> "name hex" lines

Both sides use the published test session secret.
"""
import enum
import json
import sys
import uuid
from binascii import hexlify, unhexlify

from xbox.sg import factory, packer
from xbox.sg.crypto import Crypto
from xbox.sg.enum import (ActiveTitleLocation, DisconnectReason, GamePadButton,
                          MediaControlCommand, PublicKeyType, TextResult)

SECRET = unhexlify(
    "82bba514e6d19521114940bd65121af234c53654a8e67add7710b3725db44f77"
    "30ed8e3da7015a09fe0f08e9bef3853c0506327eb77c9951769d923d863a2f5e")


def plain(v):
    """The decodes' JSON form (as vectors/smartglass/expected)."""
    if isinstance(v, enum.Enum):
        return {"name": v.name, "value": v.value}
    if isinstance(v, (bytes, bytearray)):
        return {"hex": hexlify(v).decode(), "len": len(v)}
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items() if not k.startswith("_")}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if hasattr(v, "container"):
        return plain(v.container)
    return v


def parse(crypto):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = packer.unpack(unhexlify(line), crypto)
        out = {k: plain(getattr(msg, k)) for k in msg.container.keys()}
        print(json.dumps(out, sort_keys=True))


def build(crypto):
    core = dict(target_participant_id=0, source_participant_id=31)
    kw = dict(channel_id=151, **core)
    msgs = {
        "ack": factory.acknowledge(7, [5, 6, 7], [9], **kw),
        "json": factory.json({"request": "GetConfiguration", "msgid": "ab.1"}, **kw),
        "disconnect": factory.disconnect(DisconnectReason.Reboot, 17, **core),
        "power_off": factory.power_off("FD00112233FFEE66", **core),
        "title_launch": factory.title_launch(ActiveTitleLocation.Fill, "ms-xbl-0D174C79://default/", **core),
        "start_channel": factory.start_channel(3, 0, uuid.UUID("fa20b8ca-66fb-46e0-adb6-0b978a59d35f"), 0, **core),
        "gamepad": factory.gamepad(123456, GamePadButton.PadA, 0.5, 1.0, -0.25, 0.75, 0.0, -1.0, **kw),
        "game_dvr_record": factory.game_dvr_record(-60, 0, **core),
        "media_seek": factory.media_command(9, 274278798, MediaControlCommand.Seek, 123456789012, **kw),
        "media_play": factory.media_command(10, 274278798, MediaControlCommand.Play, None, **kw),
        "system_text_input": factory.systemtext_input(8, 1, 2, 1, -1, -1, 0, 0, "h", **kw),
        "system_text_done": factory.systemtext_done(8, 2, 0, TextResult.Accept, **kw),
        "fragment": factory.message_fragment(
            factory.MessageType.MediaState, 22, 25, b"\x01\x02\x03" * 50, **kw),
        "power_on": factory.power_on("FD00112233FFEE66"),
        "discovery": factory.discovery(),
        "connect": factory.connect(
            uuid.UUID("de305d54-75b4-431b-adb2-eb6b9e546014"), PublicKeyType.EC_DH_P256,
            b"\xab" * 64, b"\x11" * 16, "deadbeef", "token", 0, 0, 1),
    }
    for i, (name, msg) in enumerate(msgs.items()):
        if "header" in msg.container and hasattr(msg.header, "container") \
                and "sequence_number" in msg.header.container:
            msg.header(sequence_number=100 + i)
        print(name, hexlify(packer.pack(msg, crypto)).decode())


def main():
    crypto = Crypto.from_shared_secret(SECRET)
    {"parse": parse, "build": build}[sys.argv[1]](crypto)


if __name__ == "__main__":
    main()
