"""Drives our simulated console (src/sim/console) with the REFERENCE Python
SmartGlass client (xbox-smartglass-core + xbox-smartglass-nano), for
tests/sim_console.rs.

Usage: sim_console_client.py HOST PORT [options]

The reference client hardcodes UDP port 5050 (xbox.sg.protocol.PORT and the
remote address in Console._ensure_protocol_started); this driver points both
at PORT, and sends its "broadcast"/"multicast" discovery to HOST so that
everything stays on loopback.

Prints one JSON object per line ({"step": ..., ...}); the test reads them as
they come. Exits 2 on a timeout, 3 on an unexpected error.
"""
import argparse
import asyncio
import json
import socket
import sys
import traceback

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from xbox.sg.console import Console  # before xbox.sg.protocol (circular import)
import xbox.sg.protocol as sgp
from xbox.sg.enum import (ConnectionState, GamePadButton, MediaControlCommand,
                          ServiceChannel)
from xbox.sg import factory
from xbox.sg.manager import InputManager, MediaManager, TextManager


def out(step, **kw):
    kw["step"] = step
    print(json.dumps(kw, default=str, sort_keys=True), flush=True)


def plain(v):
    if hasattr(v, "name") and hasattr(v, "value"):
        return v.value
    if hasattr(v, "container"):
        return plain(v.container)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items() if not str(k).startswith("_")}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return v.hex()
    return v


class PortConsole(Console):
    """Console whose session socket talks to sgp.PORT instead of 5050."""

    async def _ensure_protocol_started(self):
        if not self.protocol:
            loop = asyncio.get_running_loop()
            _, self.protocol = await loop.create_datagram_endpoint(
                lambda: sgp.SmartglassProtocol(self.address, self._crypto),
                family=socket.AF_INET,
                remote_addr=(self.address, sgp.PORT),
                allow_broadcast=True,
            )
            self.protocol.on_timeout += self._handle_timeout
            self.protocol.on_message += self._handle_message
            self.protocol.on_json += self._handle_json


async def wait_for(pred, timeout, what):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            out("timeout", what=what)
            sys.exit(2)
        await asyncio.sleep(0.02)


class MiniNanoClient:
    """The minimal client object xbox.nano.protocol.NanoProtocol needs."""

    def __init__(self):
        self.protocol = None
        self.frames = 0
        self.audio = 0

    def open(self, protocol):
        self.protocol = protocol

    def close(self):
        pass

    def set_video_format(self, fmt):
        pass

    def set_audio_format(self, fmt):
        pass

    def render_video(self, data):
        self.frames += 1

    def render_audio(self, data):
        self.audio += 1


async def run(a):
    sgp.PORT = a.port
    sgp.BROADCAST = a.host
    sgp.MULTICAST = a.host

    found = await PortConsole.discover(addr=a.host, tries=2, timeout=a.discover_timeout)
    if a.expect_no_console:
        out("discovered_none", count=len(found))
        return
    if not found:
        out("timeout", what="discovery")
        sys.exit(2)
    c = found[0]
    pub = c.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    # The certificate is self-signed: check the signature with its own key.
    cert = PortConsole.__protocol__.discovered[c.address].unprotected_payload.cert.cert
    try:
        cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                 ec.ECDSA(cert.signature_hash_algorithm))
        sig_ok = True
    except Exception as e:
        sig_ok = repr(e)
    out("discovered", name=c.name, cert_signature_ok=sig_ok,
        cert_issuer=cert.issuer.rfc4514_string(), cert_subject=cert.subject.rfc4514_string(), uuid=str(c.uuid), liveid=c.liveid,
        flags=getattr(c.flags, "value", c.flags), address=c.address, public_key=pub.hex(),
        curve=c.public_key.curve.name, count=len(found))

    if a.power_on:
        await Console.power_on(c.liveid, addr=a.host, tries=2)
        out("power_on_sent", liveid=c.liveid)

    c.add_manager(InputManager)
    c.add_manager(MediaManager)
    c.add_manager(TextManager)
    try:
        from xbox.nano.manager import NanoManager
        c.add_manager(NanoManager)
        have_nano = True
    except Exception as e:  # pragma: no cover - depends on the install
        out("no_nano_manager", error=str(e))
        have_nano = False

    media_states = []
    media_results = []
    c.media.on_media_state += lambda s: media_states.append(plain(s))
    c.media.on_media_command_result += lambda r: media_results.append(plain(r))
    jsons = []
    c.on_json += lambda msg, ch: jsons.append((ch.name, msg))

    userhash = a.userhash or None
    token = ("x" * a.token_len) if a.token_len else None
    try:
        state = await asyncio.wait_for(c.connect(userhash=userhash, xsts_token=token), a.connect_timeout)
    except asyncio.TimeoutError:
        out("timeout", what="connect")
        sys.exit(2)
    except Exception as e:
        out("connect_failed", error=str(e))
        return
    out("connected", state=state.name, pairing=c.pairing_state.name,
        participant_id=c.protocol.source_participant_id)

    await wait_for(lambda: c.console_status is not None, 5, "console status")
    st = c.console_status
    out("console_status", major=st.major_version, minor=st.minor_version,
        build=st.build_number, locale=st.locale,
        titles=[{"title_id": t.title_id, "aum": t.aum, "has_focus": t.disposition.has_focus}
                for t in st.active_titles])

    mapping = c.protocol._chl_mgr._channel_mapping
    await wait_for(lambda: len(mapping) >= 5, 5, "channel start responses")
    out("channels", channels={k.name: v for k, v in mapping.items()})

    if a.media:
        await c.media.media_command(0x12345678, MediaControlCommand.Play, request_id=77)
        await wait_for(lambda: media_results, 5, "media command result")
        out("media_command_result", result=media_results[0])
        if a.expect_media_state:
            # One when SystemMedia opened, one after the command.
            await wait_for(lambda: len(media_states) >= 2, 5, "media states")
            out("media_state", first=media_states[0], state=media_states[-1])
        await c.input.gamepad_input(GamePadButton.PadA.value | GamePadButton.DPadUp.value, l_trigger=0.5)
        await c.game_dvr_record(-30, 0)
        await c.launch_title("ms-xbl-0D174C79://default/")
        await c.send_message(factory.unsnap(0))
        out("commands_sent")

    if a.text:
        out("waiting_for_text")
        await wait_for(lambda: c.text.got_active_session, 10, "text configuration")
        out("text_configuration", session_id=c.text.text_session_id,
            prompt=c.text.text_prompt, max_len=c.text.max_text_length)
        await c.text.send_systemtext_input("hello sim")
        await wait_for(lambda: c.text.current_text_version >= 1, 5, "text ack")
        await c.text.finish_text_input()
        out("text_done", version=c.text.current_text_version)

    if a.gamestream and have_nano:
        from xbox.nano.enum import GameStreamState
        await c.nano.start_stream()
        await wait_for(lambda: c.nano.streaming, 10, "gamestream started")
        n = c.nano
        out("gamestream", session_id=n.session_id, tcp_port=n.tcp_port, udp_port=n.udp_port,
            wireless=n.wireless, link_speed=n.transmit_linkspeed,
            wireless_channel=n.wireless_channel, enabled=n.stream_enabled,
            can_be_enabled=n.stream_can_be_enabled, server_major=n.server_major_version,
            server_minor=n.server_minor_version, state=n.stream_state.name,
            preview=plain(n._stream_previewstatus.dict()) if n._stream_previewstatus else None,
            telemetry=n._stream_telemetry is not None)
        if a.nano_frames:
            client = MiniNanoClient()
            await asyncio.wait_for(n.start_gamestream(client), 15)
            await wait_for(lambda: client.frames >= a.nano_frames, 20, "nano frames")
            out("nano_frames", frames=client.frames, audio=client.audio)
            try:
                await n._protocol.stop()
            except Exception:
                pass
            n._connected = False
        await n.stop_stream()
        await wait_for(lambda: n.stream_state == GameStreamState.Stopped, 10, "gamestream stopped")
        out("gamestream_stopped", state=n.stream_state.name)

    if a.heartbeat_wait:
        await asyncio.sleep(a.heartbeat_wait)
        out("still_connected", connected=c.connected)

    if a.end == "poweroff":
        await c.power_off()
        out("powered_off")
    elif a.end == "disconnect":
        await c.protocol.disconnect()
        await c.disconnect()
        out("disconnected")
    # Let the last datagrams leave.
    await asyncio.sleep(0.2)
    out("done")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--discover-timeout", type=float, default=1.5)
    p.add_argument("--connect-timeout", type=float, default=10)
    p.add_argument("--expect-no-console", action="store_true")
    p.add_argument("--power-on", action="store_true")
    p.add_argument("--userhash", default="")
    p.add_argument("--token-len", type=int, default=0)
    p.add_argument("--media", action="store_true")
    p.add_argument("--expect-media-state", action="store_true")
    p.add_argument("--text", action="store_true")
    p.add_argument("--gamestream", action="store_true")
    p.add_argument("--nano-frames", type=int, default=0)
    p.add_argument("--heartbeat-wait", type=float, default=0)
    p.add_argument("--end", choices=["poweroff", "disconnect", "none"], default="disconnect")
    a = p.parse_args()
    try:
        asyncio.run(run(a))
    except SystemExit:
        raise
    except BaseException as e:
        out("error", error=repr(e), trace=traceback.format_exc())
        sys.exit(3)


if __name__ == "__main__":
    main()
