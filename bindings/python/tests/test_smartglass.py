"""End to end through SmartGlass against the simulated console: discovery,
power-on, the console session with its commands and events, and a
gamestream started by the console feeding an ordinary Client."""

import itertools
import socket
import threading

import pytest

import xnano
from xnano.sim import SimConfig, SimConsole, SimVideo
from conftest import wait_for
from test_stream import Recorder, press_loop


class EventRecorder:
    def __init__(self):
        self.events = []
        self.threads = []
        self.lock = threading.Lock()
        self.console = None
        self.from_callback = {}

    def __call__(self, ev: xnano.ConsoleEvent):
        with self.lock:
            self.events.append(ev)
            self.threads.append(threading.current_thread().name)
        if ev.kind == xnano.ConsoleEventType.CONNECTED and self.console is not None:
            # Calls back in from the callback: commands work, disconnecting
            # the console from its own callback is refused.
            self.console.launch_title("ms-xbl-test://from-callback")
            self.from_callback["launch"] = "ok"
            try:
                self.console.disconnect()
                self.from_callback["disconnect"] = "ok"
            except xnano.FromCallbackError as e:
                self.from_callback["disconnect"] = e.code

    def kinds(self):
        with self.lock:
            return [e.kind for e in self.events]

    def find(self, kind, pred=lambda e: True):
        with self.lock:
            return next((e for e in self.events if e.kind == kind and pred(e)), None)


def silent_address():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s, "%s:%d" % s.getsockname()


def test_console_config_defaults_match_the_library():
    assert xnano.ConsoleConfig() == xnano.ConsoleConfig.library_default()
    assert SimConfig().smartglass is True


def test_discovers_the_simulated_console(sim):
    found = xnano.discover(sim.smartglass_address, timeout=3)
    assert len(found) == 1
    info = found[0]
    assert info == sim.console_info()
    assert info.name == "XboxOne"
    assert info.live_id.startswith("FD00")
    assert info.address == sim.smartglass_address
    assert info.port == sim.smartglass_port
    assert info.curve == xnano.Curve.P256
    assert info.anonymous_allowed
    assert len(info.uuid) == 36
    assert sim.stats().sg_discovery_requests >= 1
    # (host, port) tuples work too.
    assert xnano.discover(("127.0.0.1", sim.smartglass_port))[0].live_id == info.live_id
    # Nobody there: an empty list, not an error.
    sock, addr = silent_address()
    with sock:
        assert xnano.discover(addr, timeout=0.3) == []


def test_full_smartglass_path(sim):
    [info] = xnano.discover(sim.smartglass_address)
    rec = EventRecorder()
    console = xnano.Console(on_event=rec)
    rec.console = console
    with console:
        console.open(info, xnano.ConsoleConfig(wait_timeout_ms=5000))
        # CONNECTED came before connect returned, on this thread.
        assert rec.kinds()[0] == xnano.ConsoleEventType.CONNECTED
        assert rec.threads[0] == threading.current_thread().name
        assert rec.events[0].participant_id == 31
        assert rec.events[0].details["event"] == "connected"
        assert rec.from_callback == {"launch": "ok", "disconnect": xnano.Result.ERR_FROM_CALLBACK}
        assert console.state == xnano.ConsoleState.CONNECTED
        assert console.info.live_id == info.live_id

        # Status and media arrive on the library's socket thread.
        assert wait_for(lambda: rec.find(xnano.ConsoleEventType.MEDIA_STATE) is not None)
        status = rec.find(xnano.ConsoleEventType.CONSOLE_STATUS)
        assert status.os_major_version == 10 and status.text.startswith("Xbox.Home")
        media = rec.find(xnano.ConsoleEventType.MEDIA_STATE)
        assert media.playback_status == xnano.PlaybackStatus.PLAYING

        # Commands reach the console.
        assert console.media_command(media.title_id, xnano.MediaCommand.PAUSE) > 0
        assert wait_for(lambda: rec.find(
            xnano.ConsoleEventType.MEDIA_STATE,
            lambda e: e.playback_status == xnano.PlaybackStatus.PAUSED) is not None)
        console.gamepad(buttons=xnano.GamepadButton.A | xnano.GamepadButton.DPAD_UP, left_trigger=0.5)
        console.game_dvr_record(-30, 0)
        console.unsnap()
        assert wait_for(lambda: sim.start_text_session("Gamertag?") == 1)
        assert wait_for(lambda: rec.find(xnano.ConsoleEventType.TEXT_CONFIGURATION) is not None)
        tc = rec.find(xnano.ConsoleEventType.TEXT_CONFIGURATION)
        assert tc.text == "Gamertag?"
        console.send_text("xnano")
        console.text_acknowledge(tc.text_session_id, 1)
        console.text_done(accept=True)
        for name in ("TitleLaunch", "MediaCommand", "Gamepad", "GameDvrRecord", "Unsnap",
                     "SystemTextInput", "SystemTextAck", "SystemTextDone"):
            assert wait_for(lambda: sim.message_count(name) >= 1), name
        assert sim.message_count() >= 8

        # The gamestream, delivered to an ordinary client.
        crec = Recorder()
        with xnano.Client.connect_console(console, videoMaximumFrameRate=30,
                                          enableAudioChat=True, **crec.callbacks()) as client:
            # One stream per console at a time.
            with pytest.raises(xnano.WrongStateError):
                xnano.Client.connect_console(console)
            assert wait_for(
                lambda: len(crec.frames) >= 30 and len(crec.audio) >= 10 and len(crec.rumble) >= 1,
                tick=press_loop(client),
            ), client.stats()
            assert all(f.width == 320 and f.height == 240 for f in crec.frames)
            assert crec.rumble[-1].right_trigger == 222
            stats = client.stop()
            assert stats.frames_delivered >= 30
            assert crec.states[-1].state == xnano.State.CLOSED
            assert crec.states[-1].error == xnano.Result.OK
        assert not client.callback_errors
        assert wait_for(lambda: sim.stats().sg_gamestreams_stopped == 1)
        started = rec.find(xnano.ConsoleEventType.GAMESTREAM_STATE,
                           lambda e: e.gamestream_state == xnano.GameStreamState.STARTED)
        assert started is not None
        assert rec.find(xnano.ConsoleEventType.GAMESTREAM_CONNECTED).tcp_port > 0

        console.disconnect()
        # CLOSED was delivered before disconnect returned, exactly once, last.
        assert rec.kinds()[-1] == xnano.ConsoleEventType.CLOSED
        assert rec.kinds().count(xnano.ConsoleEventType.CLOSED) == 1
        assert rec.events[-1].error == xnano.Result.OK
        assert console.state == xnano.ConsoleState.CLOSED
        with pytest.raises(xnano.ClosedError):
            console.unsnap()
    assert not console.callback_errors
    # Closed: handles refuse politely.
    with pytest.raises(xnano.WrongStateError):
        console.unsnap()


def test_gamestream_config_keys():
    with xnano.GameStreamConfig(videoMaximumWidth=640, enableOpusAudio=True) as gs:
        assert gs["videoMaximumWidth"] == "640"
        assert gs["enableOpusAudio"] == "true"
        assert gs["audioSyncCompressFactor"] == "0.99"
        gs["urcpMaximumRate"] = 123456789012
        assert gs.get("urcpMaximumRate") == "123456789012"
        with pytest.raises(xnano.InvalidArgumentError, match="noSuchKey"):
            gs["noSuchKey"] = 1
        with pytest.raises(xnano.InvalidArgumentError):
            gs["videoMaximumWidth"] = "wide"
        with pytest.raises(xnano.InvalidArgumentError):
            gs.get("noSuchKey")
        assert gs["videoMaximumWidth"] == "640"


def test_console_pull_mode(sim):
    cfg = xnano.ConsoleConfig(event_queue_capacity=64)
    with xnano.Console.connect(sim.smartglass_address, cfg) as console:
        seen = []
        for ev in console.events(timeout=0.2):
            seen.append(ev.kind)
            if ev.kind == xnano.ConsoleEventType.CONSOLE_STATUS:
                break
        assert seen[0] == xnano.ConsoleEventType.CONNECTED
        console.disconnect()
        rest = [ev.kind for ev in console.events(timeout=0.2)]
        assert rest[-1] == xnano.ConsoleEventType.CLOSED
        assert console.events_dropped() == 0
        with pytest.raises(xnano.ClosedError):
            console.next_event(0)


def test_power_off_then_power_on(sim):
    info = sim.console_info()
    rec = EventRecorder()
    with xnano.Console.connect(info, on_event=rec) as console:
        console.power_off()
        assert wait_for(lambda: rec.find(xnano.ConsoleEventType.CLOSED) is not None)
        closed = rec.find(xnano.ConsoleEventType.CLOSED)
        assert closed.error == xnano.Result.ERR_CLOSED
        assert "PowerOff" in closed.message
    assert not sim.powered_on
    assert xnano.discover(info.address, timeout=0.3) == []
    with pytest.raises(xnano.NotFoundError):
        xnano.Console.connect(info, discovery_timeout_ms=300)
    xnano.power_on(info)
    assert wait_for(lambda: sim.powered_on, timeout=5)
    assert sim.stats().sg_power_on_requests >= 1
    assert len(xnano.discover(info.address)) == 1
    with xnano.Console.connect(info) as console:
        assert console.state == xnano.ConsoleState.CONNECTED


def test_credentials_when_anonymous_is_refused():
    with SimConsole(video_source=SimVideo.SYNTHETIC, smartglass_require_auth=True) as sim:
        info = sim.console_info()
        assert not info.anonymous_allowed
        with pytest.raises(xnano.RefusedError, match="anonymous"):
            xnano.Console.connect(info)
        with xnano.Console.connect(info, userhash="1234567890", auth_token="eyJ0ZXN0Ijp0cnVlfQ") as c:
            assert c.state == xnano.ConsoleState.CONNECTED
        assert sim.stats().sg_connects_accepted == 1


def test_wrong_states_and_bad_arguments(sim):
    console = xnano.Console()
    with console:
        assert console.state == xnano.ConsoleState.IDLE
        with pytest.raises(xnano.WrongStateError):
            console.launch_title("x")
        with pytest.raises(xnano.WrongStateError):
            xnano.Client.connect_console(console)
        sock, addr = silent_address()
        with sock, pytest.raises(xnano.NotFoundError):
            console.open(addr, xnano.ConsoleConfig(discovery_timeout_ms=300))
        assert console.state == xnano.ConsoleState.IDLE
        with pytest.raises(xnano.InvalidArgumentError):
            console.open(sim.smartglass_address, xnano.ConsoleConfig(wait_timeout_ms=0))
        console.open(sim.smartglass_address)
        with pytest.raises(xnano.WrongStateError):
            console.open(sim.smartglass_address)
        with pytest.raises(xnano.InvalidArgumentError):
            console.launch_title("x", 9)
        with pytest.raises(xnano.InvalidArgumentError):
            console.media_command(1, 3)
        with pytest.raises(xnano.InvalidArgumentError):
            console.gamepad(left_trigger=2.0)
        with pytest.raises(xnano.WrongStateError, match="text"):
            console.send_text("no session")
        with pytest.raises(xnano.WrongStateError, match="event_queue_capacity"):
            console.next_event(0)
    with pytest.raises(xnano.InvalidArgumentError):
        xnano.power_on(" ")
    with pytest.raises(xnano.WrongStateError):
        SimConsole(smartglass=False, video_source=SimVideo.SYNTHETIC).console_info()


def test_exception_in_console_callback_is_kept(sim):
    calls = itertools.count()

    def bad(ev):
        next(calls)
        raise RuntimeError("boom")

    with xnano.Console.connect(sim.smartglass_address, on_event=bad) as console:
        assert wait_for(lambda: len(console.callback_errors) >= 2)
        assert console.state == xnano.ConsoleState.CONNECTED
        console.unsnap()
    assert isinstance(console.callback_errors[0], RuntimeError)
