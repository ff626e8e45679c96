"""A SmartGlass console built from the reference implementation
(xbox-smartglass-core's factory, packet structs, packer and crypto), for
tests/smartglass_reference_console.rs: our client talks to it over loopback.

  python3 sg_console_peer.py --curve P256|P384|P521 --nano-tcp N --nano-udp N
                             [--tamper] [--wrong-key]

Prints "PORT n" once bound to 127.0.0.1, then one line per client packet the
reference decoded: "RX <MessageType name> <json>" (connect requests as
"RX ConnectRequest ..."), "ERR <text>" when the reference cannot decode
something, and "BYE" when the client disconnected.

It answers discovery with a freshly generated key and self-signed
certificate on the curve, the connect request with a real ECDH session,
acknowledges what wants an ack, answers channel starts, and then sends every
console->client message type the reference can build: console status,
paired identity state, active surface change, media state (as fragments),
media command results, text configuration / input / acknowledge / done,
auxiliary stream, title text messages, fragmented JSON, and the gamestream
states announcing the Nano ports given on the command line.
"""
import argparse
import base64
import datetime
import json
import os
import socket
import sys
import time
import uuid

from construct import Container
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from xbox.sg import factory, packer
from xbox.sg.crypto import Crypto
from xbox.sg.enum import (ActiveSurfaceType, ActiveTitleLocation, ClientType,
                          ConnectionResult, DisconnectReason, MediaControlCommand,
                          MediaPlaybackStatus, MediaType, MessageType,
                          PacketType, PairedIdentityState, PrimaryDeviceFlag,
                          SGResultCode, SoundLevel, TextInputScope, TextOption,
                          TextResult)
from xbox.sg.packet import message, simple
import xbox.sg.console  # noqa: F401  (protocol and console import each other)
from xbox.sg.protocol import FragmentManager
from xbox.sg.utils.adapters import CertificateInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sg_interop import plain  # noqa: E402

CURVES = {"P256": ec.SECP256R1, "P384": ec.SECP384R1, "P521": ec.SECP521R1}
CHANNEL_ACK = 0x1000000000000000
PID = 31
LIVE_ID = "FD00112233FFEE66"
SESSION_ID = "{14608F3C-1C4A-4F32-9DA6-179CE1001E4A}"
SERVICES = {
    "fa20b8ca-66fb-46e0-adb6-0b978a59d35f": "SystemInput",
    "d451e3b3-60bb-4c71-b3db-f994b1aca3a7": "SystemInputTVRemote",
    "48a9ca24-eb6d-4e12-8c43-d57469edd3cd": "SystemMedia",
    "7af3e6a2-488b-40cb-a931-79c04b7da3a0": "SystemText",
    "b6a117d8-f5e2-45d7-862e-8fd8e3156476": "SystemBroadcast",
    "00000000-0000-0000-0000-000000000000": "Title",
}


def out(*parts):
    print(*parts, flush=True)


def make_cert(curve):
    key = ec.generate_private_key(CURVES[curve]())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LIVE_ID)])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.DER)


class Console:
    def __init__(self, args):
        self.args = args
        self.key, self.der = make_cert(args.curve)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.client = None
        self.crypto = None
        self.seq = 0
        self.channels = {}      # name -> id
        self.next_channel = 148
        self.text_session = 9
        self.connect_parts = []
        self.fragments = FragmentManager()
        self.done = False

    # -- sending ---------------------------------------------------------
    def send(self, data):
        self.sock.sendto(data, self.client)

    def send_msg(self, msg):
        msg.header(sequence_number=self.seq + 1)
        data = packer.pack(msg, self.crypto)
        self.seq += 1
        if self.args.tamper and msg.header.flags.msg_type == MessageType.ConsoleStatus:
            bad = bytearray(data)
            bad[-1] ^= 0x01                          # HMAC
            self.send(bytes(bad))
            bad = bytearray(data)
            bad[40] ^= 0x01                          # ciphertext
            self.send(bytes(bad))
            self.send(data[:30])                     # truncated
        self.send(data)

    def header(self, msg_type, channel_id=0, need_ack=False, is_fragment=False):
        return factory._message_header(
            msg_type, channel_id=channel_id, target_participant_id=PID,
            source_participant_id=0, need_ack=need_ack, is_fragment=is_fragment)

    def message(self, msg_type, payload, channel_id=0, need_ack=True):
        self.send_msg(message.struct(
            header=self.header(msg_type, channel_id, need_ack),
            protected_payload=payload))

    def ack(self, seq):
        self.send_msg(factory.acknowledge(
            seq - 1, [seq], [], channel_id=CHANNEL_ACK,
            target_participant_id=PID, source_participant_id=0))

    def json(self, channel, obj):
        self.send_msg(factory.json(
            obj, channel_id=self.channels[channel],
            target_participant_id=PID, source_participant_id=0))

    def json_fragmented(self, channel, obj, datagram_id, size=300):
        text = json.dumps(obj, separators=(",", ":"), sort_keys=True)
        b64 = base64.b64encode(text.encode()).decode()
        pieces = [(o, b64[o:o + size]) for o in range(0, len(b64), size)]
        for off, piece in reversed(pieces):
            self.json(channel, {
                "datagram_size": str(len(b64)), "datagram_id": str(datagram_id),
                "fragment_offset": str(off), "fragment_length": str(len(piece)),
                "fragment_data": piece})

    # -- receiving -------------------------------------------------------
    def run(self):
        out("PORT", self.sock.getsockname()[1])
        deadline = time.time() + 60
        while not self.done and time.time() < deadline:
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            try:
                self.handle(data, addr)
            except Exception as e:  # report, keep going
                out("ERR", type(e).__name__, str(e).replace("\n", " ")[:300])
        out("BYE")

    def handle(self, data, addr):
        pkt_type = PacketType(int.from_bytes(data[:2], "big"))
        if pkt_type == PacketType.DiscoveryRequest:
            req = packer.unpack(data)
            out("RX DiscoveryRequest", json.dumps(plain(req.unprotected_payload), sort_keys=True))
            resp = simple.struct(
                header=simple.header(pkt_type=PacketType.DiscoveryResponse, version=2),
                unprotected_payload=simple.discovery_response(
                    flags=PrimaryDeviceFlag.AllowAnonymousUsers | PrimaryDeviceFlag.AllowAuthenticatedUsers,
                    type=ClientType.XboxOne, name="RefConsole",
                    uuid=uuid.UUID("de305d54-75b4-431b-adb2-eb6b9e546014"),
                    last_error=0, cert=CertificateInfo(self.der)))
            self.sock.sendto(packer.pack(resp), addr)
        elif pkt_type == PacketType.ConnectRequest:
            self.client = addr
            ulen = int.from_bytes(data[2:4], "big")
            unprot = simple.connect_request_unprotected.parse(data[8:8 + ulen])
            peer = ec.EllipticCurvePublicKey.from_encoded_point(
                self.key.curve, b"\x04" + unprot.public_key)
            self.crypto = Crypto(peer, privkey=self.key)
            req = packer.unpack(data, self.crypto)
            p = req.protected_payload
            out("RX ConnectRequest", json.dumps({
                "sg_uuid": str(unprot.sg_uuid), "public_key_type": unprot.public_key_type.name,
                "userhash": p.userhash, "jwt_len": len(p.jwt),
                "num": p.connect_request_num, "group_start": p.connect_request_group_start,
                "group_end": p.connect_request_group_end}, sort_keys=True))
            self.connect_parts.append(p.jwt)
            if p.connect_request_num + 1 != p.connect_request_group_end:
                return
            crypto = self.crypto
            if self.args.wrong_key:
                other = ec.generate_private_key(self.key.curve)
                crypto = Crypto(peer, privkey=other)
            resp = simple.struct(
                header=simple.header(pkt_type=PacketType.ConnectResponse),
                unprotected_payload=simple.connect_response_unprotected(iv=os.urandom(16)),
                protected_payload=simple.connect_response_protected(
                    connect_result=ConnectionResult.Success,
                    pairing_state=PairedIdentityState.NotPaired,
                    participant_id=PID))
            self.send(packer.pack(resp, crypto))
        elif pkt_type == PacketType.Message:
            msg = packer.unpack(data, self.crypto)
            h = msg.header
            t = h.flags.msg_type
            name = t.name if hasattr(t, "name") else str(t)
            out("RX", name, json.dumps({
                "seq": h.sequence_number, "source": h.source_participant_id,
                "target": h.target_participant_id, "channel_id": h.channel_id,
                "need_ack": h.flags.need_ack, "is_fragment": h.flags.is_fragment,
                "payload": plain(msg.protected_payload)}, sort_keys=True))
            if h.flags.need_ack:
                self.ack(h.sequence_number)
            self.react(t, msg.protected_payload, h)

    def react(self, t, p, h):
        if t == MessageType.LocalJoin:
            self.message(MessageType.ConsoleStatus, message.console_status(
                live_tv_provider=0, major_version=10, minor_version=0, build_number=14393,
                locale="en-US", active_titles=[Container(
                    title_id=714681658,
                    disposition=Container(has_focus=True,
                                          title_location=ActiveTitleLocation.StartView),
                    product_id=uuid.UUID(int=0), sandbox_id=uuid.UUID(int=0),
                    aum="Xbox.Home_8wekyb3d8bbwe!Xbox.Home.Application")]))
            self.message(MessageType.PairedIdentityStateChanged,
                         message.paired_identity_state_changed(state=PairedIdentityState.Paired),
                         need_ack=False)
            self.message(MessageType.ActiveSurfaceChange, message.active_surface_change(
                surface_type=ActiveSurfaceType.Direct, server_tcp_port=53394,
                server_udp_port=49665, session_id=uuid.UUID(int=7),
                render_width=1280, render_height=720, master_session_key=b"\x09" * 32),
                need_ack=False)
        elif t == MessageType.StartChannelRequest:
            name = SERVICES.get(str(p.service), "Unknown")
            cid = self.next_channel
            self.next_channel += 1
            self.channels[name] = cid
            self.message(MessageType.StartChannelResponse, message.start_channel_response(
                channel_request_id=p.channel_request_id, target_channel_id=cid,
                result=SGResultCode.SG_E_SUCCESS))
            if name == "SystemMedia":
                self.media_state_fragments(cid)
            elif name == "SystemText":
                self.message(MessageType.SystemTextConfiguration, message.text_configuration(
                    text_session_id=self.text_session, text_buffer_version=0,
                    text_options=TextOption.AcceptsReturn | TextOption.MultiLine,
                    input_scope=TextInputScope.Search, max_text_length=100,
                    locale="en-US", prompt="Search"), channel_id=cid)
                self.message(MessageType.SystemTextInput, message.system_text_input(
                    text_session_id=self.text_session, base_version=0, submitted_version=1,
                    total_text_byte_len=2, selection_start=-1, selection_length=-1, flags=0,
                    text_chunk_byte_start=0, text_chunk="hi", delta=None), channel_id=cid,
                    need_ack=False)
            elif name == "SystemBroadcast":
                self.json("SystemBroadcast", {"type": 4, "enabled": True, "canBeEnabled": True,
                                              "majorProtocolVersion": 6, "minorProtocolVersion": 0})
            elif name == "Title":
                self.message(MessageType.AuxilaryStream, message.auxiliary_stream(
                    connection_info_flag=0, connection_info=None), channel_id=cid)
                self.message(MessageType.TitleTextConfiguration, message.text_configuration(
                    text_session_id=44, text_buffer_version=1, text_options=TextOption.Default,
                    input_scope=TextInputScope.Default, max_text_length=10, locale="de-DE",
                    prompt="?"), channel_id=cid)
                self.message(MessageType.TitleTextInput, message.title_text_input(
                    text_session_id=44, text_buffer_version=2, result=TextResult.Accept,
                    text="ok"), channel_id=cid)
                self.message(MessageType.TitleTextSelection, message.title_text_selection(
                    text_session_id=44, text_buffer_version=2, start=0, length=2), channel_id=cid)
        elif t == MessageType.MediaCommand:
            self.message(MessageType.MediaCommandResult, message.media_command_result(
                request_id=p.request_id, result=0), channel_id=self.channels["SystemMedia"])
            self.message(MessageType.MediaControllerRemoved, message.media_controller_removed(
                title_id=p.title_id), channel_id=self.channels["SystemMedia"])
        elif t == MessageType.SystemTextInput:
            self.message(MessageType.SystemTextAck, message.system_text_acknowledge(
                text_session_id=p.text_session_id, text_version_ack=p.submitted_version),
                channel_id=self.channels["SystemText"])
        elif t == MessageType.SystemTextDone:
            self.message(MessageType.SystemTextDone, message.system_text_done(
                text_session_id=p.text_session_id, text_version=p.text_version, flags=0,
                result=TextResult.Accept), channel_id=self.channels["SystemText"])
        elif t == MessageType.Json:
            text = p.text
            if "fragment_data" in text:
                text = self.fragments.reassemble_json(text)
                if text is None:
                    return
                out("RX JsonAssembled", json.dumps(text, sort_keys=True))
            if h.channel_id != self.channels.get("SystemBroadcast"):
                return
            if text.get("type") == 1:
                self.json("SystemBroadcast", {"type": 7, "isPublicPreview": False,
                                              "isInternalPreview": False})
                self.json_fragmented("SystemBroadcast", {"type": 6, "telemetry": "t" * 900}, 5)
                self.json("SystemBroadcast", {"type": 3, "state": 1, "sessionId": SESSION_ID,
                                              "udpPort": self.args.nano_udp,
                                              "tcpPort": self.args.nano_tcp})
                self.json("SystemBroadcast", {"type": 3, "state": 2, "sessionId": SESSION_ID,
                                              "isWirelessConnection": False, "wirelessChannel": 0,
                                              "transmitLinkSpeed": 1000000000})
            elif text.get("type") == 2:
                self.json("SystemBroadcast", {"type": 3, "state": 3, "sessionId": SESSION_ID})
        elif t == MessageType.PowerOff:
            self.message(MessageType.Disconnect, message.disconnect(
                reason=DisconnectReason.PowerOff, error_code=0), need_ack=False)
        elif t == MessageType.Disconnect:
            self.done = True

    def media_state_fragments(self, cid):
        body = message.media_state.build(dict(
            title_id=274278798, aum_id="AIVDE_s9eep9cpjhg6g!App", asset_id="",
            media_type=MediaType.Video, sound_level=SoundLevel.Full,
            enabled_commands=MediaControlCommand.Play | MediaControlCommand.Pause,
            playback_status=MediaPlaybackStatus.Playing, rate=1.0, position=0,
            media_start=0, media_end=100, min_seek=0, max_seek=100,
            metadata=[dict(name="title", value="x" * 40), dict(name="artist", value="y" * 40)]))
        n = 3
        size = (len(body) + n - 1) // n
        begin = self.seq + 1
        for i in range(n):
            frag = factory.message_fragment(
                MessageType.MediaState, begin, begin + n, body[i * size:(i + 1) * size],
                channel_id=cid, target_participant_id=PID, source_participant_id=0,
                need_ack=True)
            self.send_msg(frag)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--curve", default="P256", choices=sorted(CURVES))
    ap.add_argument("--nano-tcp", type=int, default=53394)
    ap.add_argument("--nano-udp", type=int, default=49665)
    ap.add_argument("--tamper", action="store_true")
    ap.add_argument("--wrong-key", action="store_true")
    Console(ap.parse_args()).run()


if __name__ == "__main__":
    main()
