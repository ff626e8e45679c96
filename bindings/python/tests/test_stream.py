"""End to end against the simulated console, through the C ABI."""

import itertools
import logging
import re
import socket
import threading
from importlib import metadata

import pytest

import xnano
from xnano.sim import SimConfig, SimConsole
from conftest import REPO, wait_for


def test_version_matches_crate_and_package():
    cargo = (REPO / "Cargo.toml").read_text()
    crate = re.search(r'^version\s*=\s*"([^"]+)"', cargo, re.M).group(1)
    assert xnano.version() == crate
    assert xnano.__version__ == crate
    assert metadata.version("xnano") == crate


def test_library_is_found():
    assert xnano.library_path().exists()


def test_config_defaults_match_the_library():
    assert xnano.ClientConfig() == xnano.ClientConfig.library_default()
    assert SimConfig() == SimConfig.library_default()


class Recorder:
    def __init__(self):
        self.frames = []
        self.audio = []
        self.rumble = []
        self.states = []
        self.lock = threading.Lock()

    def on_video(self, f):
        with self.lock:
            self.frames.append(f)

    def on_audio(self, p):
        with self.lock:
            self.audio.append(p)

    def on_rumble(self, r):
        with self.lock:
            self.rumble.append(r)

    def on_state(self, s):
        with self.lock:
            self.states.append(s)

    def callbacks(self):
        return dict(on_video=self.on_video, on_audio=self.on_audio,
                    on_rumble=self.on_rumble, on_state=self.on_state)


def press_loop(client):
    """A tick function sending changing input once connected."""
    counter = itertools.count()

    def tick():
        n = next(counter)
        if client.state in (xnano.State.CONNECTED, xnano.State.STREAMING):
            client.set_controller_state(
                0,
                buttons=xnano.Button.A if n % 2 else xnano.Button.NONE,
                left_trigger=11,
                right_trigger=222,
            )

    return tick


def test_stream_with_callbacks(sim):
    rec = Recorder()
    with xnano.Client.connect_nano(*sim.nano_address, **rec.callbacks()) as c:
        assert c.state in (xnano.State.CONNECTING, xnano.State.CONNECTED, xnano.State.STREAMING)
        ok = wait_for(
            lambda: len(rec.frames) >= 30 and len(rec.audio) >= 10 and rec.rumble
            and c.stats().input_frames_acked >= 1,
            tick=press_loop(c),
        )
        assert ok, c.stats()
        assert c.state == xnano.State.STREAMING
        c.request_keyframe()
        c.change_video_quality([1, 2, 3, 4, 5, 6])
        stats = c.stop()
        assert c.state == xnano.State.CLOSED
    f = rec.frames[0]
    assert (f.width, f.height, f.codec) == (320, 240, xnano.VideoCodec.H264)
    assert f.keyframe and len(f.data) > 0
    ids = [f.frame_id for f in rec.frames]
    assert ids == list(range(ids[0], ids[0] + len(ids))), "frames in order, none lost"
    a = rec.audio[0]
    assert (a.codec, a.channels, a.sample_rate) == (xnano.AudioCodec.PCM, 2, 48000)
    assert len(a.data) == 48000 // 50 * 2 * 2  # 20 ms of s16 stereo
    r = rec.rumble[-1]
    assert (r.controller, r.left_trigger, r.right_trigger) == (0, 11, 222)
    assert stats.frames_delivered == len(rec.frames)
    assert stats.keyframe_requests >= 1
    states = [s.state for s in rec.states]
    assert states == [xnano.State.CONNECTED, xnano.State.STREAMING, xnano.State.CLOSED]
    assert rec.states[-1].error == xnano.Result.OK
    st = sim.stats()
    assert st.input_frames_received >= 1 and st.rumble_sent >= 1
    assert st.video_frames_sent >= len(rec.frames)


def test_real_h264_and_opus():
    rec = Recorder()
    with SimConsole(width=320, height=240, fps=30, bitrate_bps=500_000,
                    keyframe_interval=30) as sim:
        with xnano.Client.connect_nano(*sim.nano_address, **rec.callbacks()) as c:
            assert wait_for(lambda: len(rec.frames) >= 10 and len(rec.audio) >= 10), c.stats()
    f = rec.frames[0]
    assert f.keyframe
    assert f.data[:4] == b"\x00\x00\x00\x01"
    nal_types = {b & 0x1F for b in re.findall(rb"\x00\x00\x01(.)", f.data, re.S) for b in b}
    assert {7, 8, 5} <= nal_types, nal_types  # SPS, PPS, IDR slice
    a = rec.audio[0]
    assert (a.codec, a.channels, a.sample_rate) == (xnano.AudioCodec.OPUS, 2, 48000)
    assert 0 < len(a.data) < 1500


def test_pull_mode(sim):
    cfg = xnano.ClientConfig(event_queue_capacity=512)
    with xnano.Client.connect_nano(*sim.nano_address, config=cfg) as c:
        seen = {"video": 0, "audio": 0, "rumble": 0}
        states = []
        tick = press_loop(c)
        for ev in c.events(timeout=0.05):
            tick()
            if isinstance(ev, xnano.VideoFrame):
                assert ev.data and ev.width == 320
                seen["video"] += 1
            elif isinstance(ev, xnano.AudioPacket):
                seen["audio"] += 1
            elif isinstance(ev, xnano.Rumble):
                assert ev.right_trigger == 222
                seen["rumble"] += 1
            elif isinstance(ev, xnano.StateChange):
                states.append(ev)
            if seen["video"] >= 20 and seen["audio"] >= 5 and seen["rumble"] >= 1:
                break
        assert seen["rumble"] >= 1, seen
        c.stop()
        rest = list(c.events(timeout=1.0))
        assert isinstance(rest[-1], xnano.StateChange)
        assert rest[-1].state == xnano.State.CLOSED and rest[-1].error == xnano.Result.OK
        with pytest.raises(xnano.ClosedError):
            c.next_event(0)
    assert states[0].state == xnano.State.CONNECTED


def test_errors_become_exceptions():
    # Nothing listens on this port: connection refused.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(xnano.XnanoIOError) as e:
        xnano.Client.connect_nano("127.0.0.1", port, port)
    assert isinstance(e.value, OSError)
    assert e.value.code == xnano.Result.ERR_IO and e.value.message

    with xnano.Client() as c:
        with pytest.raises(xnano.WrongStateError):
            c.set_controller_state(0, buttons=xnano.Button.A)
        with pytest.raises(xnano.WrongStateError):
            c.next_event(0)
        with pytest.raises(xnano.InvalidArgumentError):
            c.set_controller_state(9)
        with pytest.raises(xnano.InvalidArgumentError):
            c.change_video_quality([1, 2, 3])
        assert c.stats().frames_delivered == 0
    with pytest.raises(xnano.WrongStateError):
        c.request_keyframe()  # closed handle
    with pytest.raises(xnano.InvalidArgumentError, match="connect_timeout_ms"):
        xnano.Client(xnano.ClientConfig(connect_timeout_ms=0))
    with pytest.raises(xnano.InvalidArgumentError):
        SimConsole(fps=0)
    with pytest.raises(TypeError):
        SimConsole(no_such_field=1)


def test_stop_from_own_callback_is_refused(sim):
    holder = {}
    results = []

    def on_video(f):
        if not results:
            try:
                holder["c"].stop()
                results.append("stopped?!")
            except xnano.FromCallbackError as e:
                results.append(e.code)
            # Calling back in is fine.
            results.append(holder["c"].stats().frames_delivered)

    c = xnano.Client(on_video=on_video)
    holder["c"] = c
    with c:
        c.connect(*sim.nano_address)
        assert wait_for(lambda: len(results) >= 2)
    assert results[0] == xnano.Result.ERR_FROM_CALLBACK
    assert results[1] >= 1


def test_console_hangup_reports_error(sim):
    rec = Recorder()
    with xnano.Client.connect_nano(*sim.nano_address, **rec.callbacks()) as c:
        assert wait_for(lambda: len(rec.frames) >= 3)
        sim.close_client()
        assert wait_for(lambda: any(s.state == xnano.State.CLOSED for s in rec.states))
        closed = [s for s in rec.states if s.state == xnano.State.CLOSED]
        assert len(closed) == 1 and closed[0].error != xnano.Result.OK
        assert c.state == xnano.State.CLOSED
        with pytest.raises(xnano.WrongStateError):
            c.request_keyframe()


def test_callback_exception_is_contained(sim, capsys):
    frames = []

    def on_video(f):
        frames.append(f)
        if len(frames) == 2:
            raise RuntimeError("boom in callback")

    with xnano.Client.connect_nano(*sim.nano_address, on_video=on_video) as c:
        assert wait_for(lambda: len(frames) >= 10)
        assert c.state == xnano.State.STREAMING
        assert len(c.callback_errors) == 1
        assert isinstance(c.callback_errors[0], RuntimeError)
    assert "boom in callback" in capsys.readouterr().err


def test_log_forwarded_to_python(sim, caplog):
    caplog.set_level(logging.DEBUG)
    xnano.log_to_python(xnano.LogLevel.DEBUG)
    try:
        with xnano.Client.connect_nano(*sim.nano_address) as c:
            assert wait_for(lambda: any(r.name.startswith("xnano.") for r in caplog.records))
            c.stop()
    finally:
        xnano.set_log_callback(None)
    names = {r.name for r in caplog.records}
    assert any(n.startswith("xnano.ffi") for n in names), names
