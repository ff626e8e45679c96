// End to end through SmartGlass against the simulated console: discovery, power-on, the
// console session with its commands and events, and a gamestream started by the console.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using NUnit.Framework;
using Xnano;
using Xnano.Sim;

namespace Xnano.Tests
{
    internal sealed class ConsoleRecorder
    {
        private readonly List<ConsoleEvent> _events = new List<ConsoleEvent>();
        private readonly List<int> _threads = new List<int>();

        public void Attach(XboxConsole c)
        {
            c.EventReceived += (s, e) =>
            {
                lock (_events)
                {
                    _events.Add(e);
                    _threads.Add(Thread.CurrentThread.ManagedThreadId);
                }
            };
        }

        public List<ConsoleEvent> Events
        {
            get { lock (_events) return _events.ToList(); }
        }

        public List<int> Threads
        {
            get { lock (_events) return _threads.ToList(); }
        }

        public ConsoleEvent Find(ConsoleEventType kind, Func<ConsoleEvent, bool> pred = null)
        {
            return Events.FirstOrDefault(e => e.Kind == kind && (pred == null || pred(e)));
        }
    }

    [TestFixture]
    public class SmartGlassTests
    {
        private static SimConfig CheapSim()
        {
            return new SimConfig
            {
                Width = 320,
                Height = 240,
                Fps = 60,
                KeyframeInterval = 30,
                VideoSource = SimVideoSource.Synthetic,
                AudioSource = SimAudioSource.Pcm,
            };
        }

        private static bool WaitFor(Func<bool> cond, int timeoutMs = 20000, Action tick = null)
        {
            var end = DateTime.UtcNow.AddMilliseconds(timeoutMs);
            while (DateTime.UtcNow < end)
            {
                tick?.Invoke();
                if (cond())
                {
                    return true;
                }
                Thread.Sleep(20);
            }
            return cond();
        }

        private static ResultCode CodeOf(TestDelegate d) => Assert.Throws<XnanoException>(d).Code;

        /// <summary>A UDP address where nobody answers.</summary>
        private static UdpClient Silent(out string address)
        {
            var u = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            address = "127.0.0.1:" + ((IPEndPoint)u.Client.LocalEndPoint).Port;
            return u;
        }

        [Test]
        public void DefaultsComeFromTheLibrary()
        {
            var c = new ConsoleConfig();
            Assert.IsNull(c.UserHash);
            Assert.IsFalse(c.IgnoreAnonymousFlag);
            Assert.AreEqual(TimeSpan.FromMilliseconds(3000), c.DiscoveryTimeout);
            Assert.AreEqual(TimeSpan.FromMilliseconds(10000), c.WaitTimeout);
            Assert.AreEqual(0u, c.EventQueueCapacity);
            Assert.IsTrue(new SimConfig().SmartGlass);
            Assert.AreEqual(5050, SmartGlass.DefaultPort);
        }

        [Test]
        public void DiscoversTheSimulatedConsole()
        {
            using (var sim = new Simulator(CheapSim()))
            {
                var found = SmartGlass.Discover(sim.SmartGlassAddress, TimeSpan.FromSeconds(3));
                Assert.AreEqual(1, found.Count);
                var info = found[0];
                var announced = sim.ConsoleInfo;
                Assert.AreEqual(announced.LiveId, info.LiveId);
                Assert.AreEqual("XboxOne", info.Name);
                StringAssert.StartsWith("FD00", info.LiveId);
                Assert.AreEqual(sim.SmartGlassAddress, info.Address);
                Assert.AreEqual(sim.SmartGlassPort, info.Port);
                Assert.AreEqual(Curve.P256, info.Curve);
                Assert.IsTrue(info.AnonymousAllowed);
                Assert.IsTrue(info.IsXboxOne);
                Assert.AreEqual(36, info.Uuid.Length);
                Assert.GreaterOrEqual(sim.Stats.SgDiscoveryRequests, 1ul);
                using (Silent(out var addr))
                {
                    Assert.AreEqual(0, SmartGlass.Discover(addr, TimeSpan.FromMilliseconds(300)).Count, "nobody there: empty");
                }
            }
        }

        [Test]
        public void FullSmartGlassPath()
        {
            using (var sim = new Simulator(CheapSim()))
            using (var console = new XboxConsole())
            {
                var info = SmartGlass.Discover(sim.SmartGlassAddress, TimeSpan.FromSeconds(3)).Single();
                var rec = new ConsoleRecorder();
                rec.Attach(console);
                var fromCallback = new Dictionary<string, string>();
                console.EventReceived += (s, e) =>
                {
                    if (e.Kind != ConsoleEventType.Connected)
                    {
                        return;
                    }
                    console.LaunchTitle("ms-xbl-test://from-callback");
                    fromCallback["launch"] = "ok";
                    try
                    {
                        console.Disconnect();
                        fromCallback["disconnect"] = "ok";
                    }
                    catch (XnanoException x)
                    {
                        fromCallback["disconnect"] = x.Code.ToString();
                    }
                };
                console.Connect(info, new ConsoleConfig { WaitTimeout = TimeSpan.FromSeconds(5) });
                Assert.AreEqual(ConsoleEventType.Connected, rec.Events[0].Kind, "CONNECTED before Connect returned");
                Assert.AreEqual(Thread.CurrentThread.ManagedThreadId, rec.Threads[0], "on the calling thread");
                Assert.AreEqual(31u, rec.Events[0].ParticipantId);
                Assert.AreEqual("ok", fromCallback["launch"]);
                Assert.AreEqual("FromCallback", fromCallback["disconnect"]);
                Assert.AreEqual(ConsoleState.Connected, console.State);
                Assert.AreEqual(info.LiveId, console.Info.LiveId);

                Assert.IsTrue(WaitFor(() => rec.Find(ConsoleEventType.MediaState) != null));
                var status = rec.Find(ConsoleEventType.ConsoleStatus);
                Assert.AreEqual(10u, status.OsMajorVersion);
                StringAssert.StartsWith("Xbox.Home", status.Text);
                var media = rec.Find(ConsoleEventType.MediaState);
                var playing = media.PlaybackStatus;

                Assert.Greater(console.SendMediaCommand(media.TitleId, MediaCommand.Pause), 0ul);
                Assert.IsTrue(WaitFor(() => rec.Find(ConsoleEventType.MediaState, e => e.PlaybackStatus != playing) != null),
                    "the media state changes after Pause");
                console.Gamepad(new GamepadState { Buttons = GamepadButtons.A | GamepadButtons.DPadUp, LeftTrigger = 0.5f });
                console.GameDvrRecord(-30, 0);
                console.Unsnap();
                Assert.IsTrue(WaitFor(() => sim.StartTextSession("Gamertag?") == 1));
                Assert.IsTrue(WaitFor(() => rec.Find(ConsoleEventType.TextConfiguration) != null));
                var tc = rec.Find(ConsoleEventType.TextConfiguration);
                Assert.AreEqual("Gamertag?", tc.Text);
                console.SendText("xnano");
                console.TextAcknowledge(tc.TextSessionId, 1);
                console.TextDone(true);
                foreach (var name in new[] { "TitleLaunch", "MediaCommand", "Gamepad", "GameDvrRecord", "Unsnap",
                             "SystemTextInput", "SystemTextAck", "SystemTextDone" })
                {
                    Assert.IsTrue(WaitFor(() => sim.MessageCount(name) >= 1), name);
                }
                Assert.GreaterOrEqual(sim.MessageCount(), 8ul);

                // The gamestream, delivered to an ordinary client.
                var crec = new Recorder();
                using (var gs = new GameStreamConfig())
                using (var client = new Client())
                {
                    gs.Set("videoMaximumFrameRate", 30);
                    gs.Set("enableAudioChat", true);
                    crec.Attach(client);
                    client.ConnectConsole(console, gs);
                    using (var second = new Client())
                    {
                        Assert.AreEqual(ResultCode.WrongState, CodeOf(() => second.ConnectConsole(console)),
                            "one stream per console at a time");
                    }
                    var n = 0;
                    Assert.IsTrue(WaitFor(
                        () => crec.Count(crec.Frames) >= 30 && crec.Count(crec.Audio) >= 10 && crec.Count(crec.Rumble) >= 1,
                        20000,
                        () =>
                        {
                            var st = client.State;
                            if (st == ClientState.Connected || st == ClientState.Streaming)
                            {
                                client.SetControllerState(0, new ControllerState
                                {
                                    Buttons = ++n % 2 == 1 ? Buttons.A : Buttons.None,
                                    LeftTrigger = 11,
                                    RightTrigger = 222,
                                });
                            }
                        }), client.Stats.ToString());
                    Assert.IsTrue(crec.Frames.All(f => f.Width == 320 && f.Height == 240));
                    Assert.AreEqual(222, crec.Rumble.Last().RightTrigger);
                    var stats = client.Stop();
                    Assert.GreaterOrEqual(stats.FramesDelivered, 30ul);
                    Assert.AreEqual(ClientState.Closed, crec.States.Last().State);
                    Assert.AreEqual(ResultCode.Ok, crec.States.Last().Error);
                }
                Assert.IsTrue(WaitFor(() => sim.Stats.SgGamestreamsStopped == 1));
                Assert.IsNotNull(rec.Find(ConsoleEventType.GameStreamState, e => e.GameStreamState == GameStreamState.Started));
                Assert.Greater(rec.Find(ConsoleEventType.GameStreamConnected).TcpPort, 0);

                console.Disconnect();
                var kinds = rec.Events.Select(e => e.Kind).ToList();
                Assert.AreEqual(ConsoleEventType.Closed, kinds.Last(), "CLOSED before Disconnect returned, last");
                Assert.AreEqual(1, kinds.Count(k => k == ConsoleEventType.Closed));
                Assert.AreEqual(ResultCode.Ok, rec.Events.Last().Error);
                Assert.AreEqual(ConsoleState.Closed, console.State);
                Assert.AreEqual(ResultCode.Closed, CodeOf(() => console.Unsnap()));
            }
        }

        [Test]
        public void GameStreamConfigKeys()
        {
            using (var gs = new GameStreamConfig())
            {
                gs.Set("videoMaximumWidth", 640);
                gs.Set("enableOpusAudio", true);
                Assert.AreEqual("640", gs["videoMaximumWidth"]);
                Assert.AreEqual("true", gs["enableOpusAudio"]);
                Assert.AreEqual("0.99", gs["audioSyncCompressFactor"]);
                gs.Set("urcpMaximumRate", 123456789012L);
                Assert.AreEqual("123456789012", gs.Get("urcpMaximumRate"));
                var e = Assert.Throws<XnanoException>(() => gs["noSuchKey"] = "1");
                Assert.AreEqual(ResultCode.InvalidArgument, e.Code);
                StringAssert.Contains("noSuchKey", e.Message);
                Assert.AreEqual(ResultCode.InvalidArgument, CodeOf(() => gs["videoMaximumWidth"] = "wide"));
                Assert.AreEqual(ResultCode.InvalidArgument, CodeOf(() => gs.Get("noSuchKey")));
                Assert.AreEqual("640", gs["videoMaximumWidth"], "unchanged after a refused set");
            }
        }

        [Test]
        public void ConsolePullMode()
        {
            using (var sim = new Simulator(CheapSim()))
            using (var console = new XboxConsole())
            {
                var raised = 0;
                console.EventReceived += (s, e) => raised++;
                console.Connect(sim.SmartGlassAddress, new ConsoleConfig { EventQueueCapacity = 64 });
                var seen = new List<ConsoleEventType>();
                var end = DateTime.UtcNow.AddSeconds(20);
                while (DateTime.UtcNow < end)
                {
                    var ev = console.NextEvent(TimeSpan.FromMilliseconds(200));
                    if (ev == null)
                    {
                        continue;
                    }
                    seen.Add(ev.Kind);
                    if (ev.Kind == ConsoleEventType.ConsoleStatus)
                    {
                        break;
                    }
                }
                Assert.AreEqual(ConsoleEventType.Connected, seen[0]);
                Assert.Contains(ConsoleEventType.ConsoleStatus, seen);
                console.Disconnect();
                var rest = new List<ConsoleEventType>();
                var x = Assert.Throws<XnanoException>(() =>
                {
                    while (true)
                    {
                        var ev = console.NextEvent(TimeSpan.FromSeconds(1));
                        Assert.IsNotNull(ev, "timed out before CLOSED");
                        rest.Add(ev.Kind);
                    }
                });
                Assert.AreEqual(ResultCode.Closed, x.Code);
                Assert.AreEqual(ConsoleEventType.Closed, rest.Last());
                Assert.AreEqual(0ul, console.EventsDropped);
                Assert.AreEqual(0, raised, "pull mode raises no events");
            }
        }

        [Test]
        public void PowerOffThenPowerOn()
        {
            using (var sim = new Simulator(CheapSim()))
            {
                var info = sim.ConsoleInfo;
                var rec = new ConsoleRecorder();
                using (var console = new XboxConsole())
                {
                    rec.Attach(console);
                    console.Connect(info);
                    console.PowerOff();
                    Assert.IsTrue(WaitFor(() => rec.Find(ConsoleEventType.Closed) != null));
                    var closed = rec.Find(ConsoleEventType.Closed);
                    Assert.AreEqual(ResultCode.Closed, closed.Error);
                    StringAssert.Contains("PowerOff", closed.Message);
                }
                Assert.IsFalse(sim.SmartGlassPoweredOn);
                Assert.AreEqual(0, SmartGlass.Discover(info.Address, TimeSpan.FromMilliseconds(300)).Count);
                using (var console = new XboxConsole())
                {
                    Assert.AreEqual(ResultCode.NotFound,
                        CodeOf(() => console.Connect(info, new ConsoleConfig { DiscoveryTimeout = TimeSpan.FromMilliseconds(300) })));
                }
                SmartGlass.PowerOn(info.LiveId, info.Address);
                Assert.IsTrue(WaitFor(() => sim.SmartGlassPoweredOn, 5000));
                Assert.GreaterOrEqual(sim.Stats.SgPowerOnRequests, 1ul);
                Assert.AreEqual(1, SmartGlass.Discover(info.Address, TimeSpan.FromSeconds(3)).Count);
                using (var console = new XboxConsole())
                {
                    console.Connect(info);
                    Assert.AreEqual(ConsoleState.Connected, console.State);
                }
            }
        }

        [Test]
        public void CredentialsWhenAnonymousIsRefused()
        {
            var cfg = CheapSim();
            cfg.SmartGlassRequireAuth = true;
            using (var sim = new Simulator(cfg))
            {
                var info = sim.ConsoleInfo;
                Assert.IsFalse(info.AnonymousAllowed);
                using (var console = new XboxConsole())
                {
                    var e = Assert.Throws<XnanoException>(() => console.Connect(info));
                    Assert.AreEqual(ResultCode.Refused, e.Code);
                    StringAssert.Contains("anonymous", e.Message);
                }
                using (var console = new XboxConsole())
                {
                    console.Connect(info, new ConsoleConfig { UserHash = "1234567890", AuthToken = "eyJ0ZXN0Ijp0cnVlfQ" });
                    Assert.AreEqual(ConsoleState.Connected, console.State);
                }
                Assert.AreEqual(1ul, sim.Stats.SgConnectsAccepted);
            }
        }

        [Test]
        public void WrongStatesAndBadArguments()
        {
            using (var sim = new Simulator(CheapSim()))
            using (var console = new XboxConsole())
            {
                Assert.AreEqual(ConsoleState.Idle, console.State);
                Assert.AreEqual(ResultCode.WrongState, CodeOf(() => console.LaunchTitle("x")));
                using (var client = new Client())
                {
                    Assert.AreEqual(ResultCode.WrongState, CodeOf(() => client.ConnectConsole(console)));
                    Assert.AreEqual(ClientState.Idle, client.State);
                }
                using (Silent(out var addr))
                {
                    Assert.AreEqual(ResultCode.NotFound,
                        CodeOf(() => console.Connect(addr, new ConsoleConfig { DiscoveryTimeout = TimeSpan.FromMilliseconds(300) })));
                }
                Assert.AreEqual(ConsoleState.Idle, console.State);
                Assert.AreEqual(ResultCode.InvalidArgument,
                    CodeOf(() => console.Connect(sim.SmartGlassAddress, new ConsoleConfig { WaitTimeout = TimeSpan.Zero })));
                console.Connect(sim.SmartGlassAddress);
                Assert.AreEqual(ResultCode.WrongState, CodeOf(() => console.Connect(sim.SmartGlassAddress)));
                Assert.AreEqual(ResultCode.InvalidArgument, CodeOf(() => console.LaunchTitle("x", (TitleLocation)9)));
                Assert.AreEqual(ResultCode.InvalidArgument, CodeOf(() => console.SendMediaCommand(1, (MediaCommand)3)));
                Assert.AreEqual(ResultCode.InvalidArgument, CodeOf(() => console.Gamepad(new GamepadState { LeftTrigger = 2.0f })));
                StringAssert.Contains("text", Assert.Throws<XnanoException>(() => console.SendText("no session")).Message);
                Assert.AreEqual(ResultCode.WrongState, CodeOf(() => console.NextEvent(TimeSpan.Zero)));
            }
            Assert.AreEqual(ResultCode.InvalidArgument, CodeOf(() => SmartGlass.PowerOn(" ")));
            var noSg = CheapSim();
            noSg.SmartGlass = false;
            using (var sim = new Simulator(noSg))
            {
                Assert.AreEqual(ResultCode.WrongState, CodeOf(() => { var i = sim.ConsoleInfo; }));
            }
            var disposed = new XboxConsole();
            disposed.Dispose();
            Assert.Throws<ObjectDisposedException>(() => disposed.Unsnap());
        }

        [Test]
        public void ConsoleConnectsAgainAfterAFailedConnect()
        {
            using (var sim = new Simulator(CheapSim()))
            using (var console = new XboxConsole())
            {
                var rec = new ConsoleRecorder();
                rec.Attach(console);
                using (Silent(out var addr))
                {
                    Assert.AreEqual(ResultCode.NotFound,
                        CodeOf(() => console.Connect(addr, new ConsoleConfig { DiscoveryTimeout = TimeSpan.FromMilliseconds(300) })));
                }
                Assert.AreEqual(ConsoleState.Idle, console.State);
                Assert.IsFalse(console.IsReferencedByNative, "a failed connect keeps nothing alive");
                Assert.AreEqual(0, rec.Events.Count);
                GC.Collect();
                GC.WaitForPendingFinalizers();
                console.Connect(sim.SmartGlassAddress);
                Assert.IsTrue(console.IsReferencedByNative);
                Assert.AreEqual(ConsoleEventType.Connected, rec.Events[0].Kind);
                Assert.IsTrue(WaitFor(() => rec.Find(ConsoleEventType.ConsoleStatus) != null), "events after the second connect");
                console.Disconnect();
                Assert.AreEqual(ConsoleEventType.Closed, rec.Events.Last().Kind);
                Assert.IsFalse(console.IsReferencedByNative);
            }
        }

        [Test]
        public void DisconnectAndDisposeRaceFromTwoThreads()
        {
            using (var sim = new Simulator(CheapSim()))
            {
                for (var round = 0; round < 10; round++)
                {
                    var calls = new int[1];
                    var console = new XboxConsole();
                    console.EventReceived += (s, e) => Interlocked.Increment(ref calls[0]);
                    console.Connect(sim.SmartGlassAddress);
                    var go = new ManualResetEvent(false);
                    var errors = new Exception[2];
                    var threads = new[]
                    {
                        new Thread(() => { go.WaitOne(); try { console.Disconnect(); } catch (Exception e) { errors[0] = e; } }),
                        new Thread(() => { go.WaitOne(); try { console.Dispose(); } catch (Exception e) { errors[1] = e; } }),
                    };
                    foreach (var t in threads)
                    {
                        t.Start();
                    }
                    go.Set();
                    foreach (var t in threads)
                    {
                        Assert.IsTrue(t.Join(20000), "round " + round + ": Disconnect and Dispose return");
                    }
                    Assert.IsNull(errors[0], "round " + round + ": Disconnect: " + errors[0]);
                    Assert.IsNull(errors[1], "round " + round + ": Dispose: " + errors[1]);
                    var after = Volatile.Read(ref calls[0]);
                    Thread.Sleep(50);
                    Assert.AreEqual(after, Volatile.Read(ref calls[0]), "round " + round + ": an event after both returned");
                    Assert.IsFalse(console.IsReferencedByNative);
                    console.Disconnect();
                    console.Dispose();
                }
            }
        }

        [Test]
        public void HandlerExceptionsInConsoleEventsGoToCallbackError()
        {
            using (var sim = new Simulator(CheapSim()))
            using (var console = new XboxConsole())
            {
                var errors = 0;
                console.EventReceived += (s, e) => throw new InvalidOperationException("boom");
                console.CallbackError += (s, e) => Interlocked.Increment(ref errors);
                console.Connect(sim.SmartGlassAddress);
                Assert.IsTrue(WaitFor(() => Volatile.Read(ref errors) >= 2));
                Assert.AreEqual(ConsoleState.Connected, console.State);
                console.Unsnap();
            }
        }
    }
}
