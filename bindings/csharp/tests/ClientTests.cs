// End-to-end tests of the C# binding against the simulated console, through libxnano's C ABI.
// NUnit 2.6 (runs under Mono's nunit-console; see scripts/test-csharp.sh).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using System.Threading;
using NUnit.Framework;
using Xnano;
using Xnano.Native;
using Xnano.Sim;

namespace Xnano.Tests
{
    /// <summary>Collects everything a client reports, thread-safely.</summary>
    internal sealed class Recorder
    {
        public readonly List<VideoFrame> Frames = new List<VideoFrame>();
        public readonly List<AudioPacket> Audio = new List<AudioPacket>();
        public readonly List<Rumble> Rumble = new List<Rumble>();
        public readonly List<StateChange> States = new List<StateChange>();
        public readonly object Lock = new object();

        public void Attach(Client c)
        {
            c.VideoFrameReceived += (s, f) => { lock (Lock) Frames.Add(f); };
            c.AudioPacketReceived += (s, a) => { lock (Lock) Audio.Add(a); };
            c.RumbleReceived += (s, r) => { lock (Lock) Rumble.Add(r); };
            c.StateChanged += (s, e) => { lock (Lock) States.Add(e); };
        }

        public int Count<T>(List<T> list)
        {
            lock (Lock) return list.Count;
        }
    }

    [TestFixture]
    public class ClientTests
    {
        private static SimConfig CheapSim()
        {
            // Synthetic 320x240 video and PCM audio: cheap to produce.
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

        /// <summary>Polls <paramref name="cond"/> (calling <paramref name="tick"/> each round) until true
        /// or 20 s passed.</summary>
        private static bool WaitFor(Func<bool> cond, Action tick = null, int timeoutMs = 20000)
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

        /// <summary>A tick that sends changing input (A toggling, triggers 11/222) once connected.</summary>
        private static Action PressLoop(Client c)
        {
            var n = 0;
            return () =>
            {
                n++;
                var s = c.State;
                if (s == ClientState.Connected || s == ClientState.Streaming)
                {
                    c.SetControllerState(0, new ControllerState
                    {
                        Buttons = n % 2 == 1 ? Buttons.A : Buttons.None,
                        LeftTrigger = 11,
                        RightTrigger = 222,
                        LeftThumbX = -1234,
                    });
                }
            };
        }

        /// <summary>A loopback TCP port nobody listens on (connecting to it is refused).</summary>
        private static ushort ClosedPort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = (ushort)((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        internal static string RepoRoot()
        {
            var env = Environment.GetEnvironmentVariable("XNANO_REPO");
            if (!string.IsNullOrEmpty(env))
            {
                return env;
            }
            var dir = new DirectoryInfo(AppDomain.CurrentDomain.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Cargo.toml")))
            {
                dir = dir.Parent;
            }
            Assert.IsNotNull(dir, "repository root not found; set XNANO_REPO");
            return dir.FullName;
        }

        [Test]
        public void VersionMatchesHeaderAndCargo()
        {
            var cargo = File.ReadAllText(Path.Combine(RepoRoot(), "Cargo.toml"));
            var crate = Regex.Match(cargo, "^version\\s*=\\s*\"([^\"]+)\"", RegexOptions.Multiline).Groups[1].Value;
            Assert.AreEqual(crate, Library.Version);
            Assert.AreEqual(crate, Library.BindingVersion);
            Assert.AreEqual(crate, string.Format("{0}.{1}.{2}", NativeMethods.XNANO_VERSION_MAJOR,
                NativeMethods.XNANO_VERSION_MINOR, NativeMethods.XNANO_VERSION_PATCH));
            Assert.AreEqual("XNANO_ERR_WRONG_STATE", Library.ResultName(ResultCode.WrongState));
        }

        [Test]
        public void StructLayoutsMatchTheHeader()
        {
            // XNANO_LAYOUT: "struct field offset" and "struct sizeof size" lines printed by a C
            // program compiled against include/xnano.h (scripts/test-csharp.sh makes it with
            // scripts/check-bindings.py --layout-c).
            var path = Environment.GetEnvironmentVariable("XNANO_LAYOUT");
            if (string.IsNullOrEmpty(path))
            {
                Assert.Ignore("XNANO_LAYOUT not set");
            }
            var checkedFields = 0;
            foreach (var line in File.ReadAllLines(path))
            {
                var parts = line.Split(' ');
                var type = typeof(NativeMethods).Assembly.GetType("Xnano.Native." + parts[0]);
                Assert.IsNotNull(type, parts[0]);
                var expected = long.Parse(parts[2]);
                if (parts[1] == "sizeof")
                {
                    Assert.AreEqual(expected, System.Runtime.InteropServices.Marshal.SizeOf(type), "sizeof " + parts[0]);
                }
                else
                {
                    Assert.AreEqual(expected, System.Runtime.InteropServices.Marshal.OffsetOf(type, parts[1]).ToInt64(),
                        parts[0] + "." + parts[1]);
                    checkedFields++;
                }
            }
            Assert.Greater(checkedFields, 50);
        }

        [Test]
        public void ConfigDefaultsComeFromTheLibrary()
        {
            var c = new ClientConfig();
            Assert.AreEqual(TimeSpan.FromMilliseconds(5000), c.ConnectTimeout);
            Assert.AreEqual(TimeSpan.FromMilliseconds(5000), c.SilenceTimeout);
            Assert.AreEqual(0u, c.EventQueueCapacity);
            Assert.IsTrue(c.WaitForFirstKeyframe);
            Assert.IsNull(c.VideoWidth);
            c.VideoWidth = 640;
            Assert.AreEqual(640u, c.VideoWidth);
            c.VideoCodec = VideoCodec.H264;
            Assert.AreEqual(VideoCodec.H264, c.VideoCodec);
            c.VideoCodec = null;
            Assert.IsNull(c.VideoCodec);

            var s = new SimConfig();
            Assert.AreEqual(1280u, s.Width);
            Assert.AreEqual(720u, s.Height);
            Assert.AreEqual(60u, s.Fps);
            Assert.AreEqual(SimVideoSource.TestPattern, s.VideoSource);
            Assert.AreEqual(SimAudioSource.Opus, s.AudioSource);
        }

        [Test]
        public void StreamWithEvents()
        {
            var rec = new Recorder();
            using (var sim = new Simulator(CheapSim()))
            using (var c = new Client())
            {
                rec.Attach(c);
                c.Connect(sim);
                var st = c.State;
                Assert.That(st == ClientState.Connecting || st == ClientState.Connected || st == ClientState.Streaming, st.ToString());
                var ok = WaitFor(
                    () => rec.Count(rec.Frames) >= 30 && rec.Count(rec.Audio) >= 10 && rec.Count(rec.Rumble) >= 1
                        && c.Stats.InputFramesAcked >= 1,
                    PressLoop(c));
                Assert.IsTrue(ok, c.Stats.ToString());
                Assert.AreEqual(ClientState.Streaming, c.State);
                // Connecting again is refused and leaves the running session alone.
                Assert.AreEqual(ResultCode.WrongState, Assert.Throws<XnanoException>(() => c.Connect(sim)).Code);
                var before = rec.Count(rec.Frames);
                Assert.IsTrue(WaitFor(() => rec.Count(rec.Frames) >= before + 10), "still streaming");
                c.RequestKeyframe();
                c.ChangeVideoQuality(1, 2, 3, 4, 5, 6);
                var stats = c.Stop();
                Assert.AreEqual(ClientState.Closed, c.State);
                c.Stop(); // stopping twice is fine

                var f = rec.Frames[0];
                Assert.AreEqual(320u, f.Width);
                Assert.AreEqual(240u, f.Height);
                Assert.AreEqual(VideoCodec.H264, f.Codec);
                Assert.IsTrue(f.Keyframe);
                Assert.Greater(f.Data.Length, 0);
                var ids = rec.Frames.Select(x => x.FrameId).ToList();
                CollectionAssert.AreEqual(Enumerable.Range((int)ids[0], ids.Count).Select(i => (uint)i).ToList(), ids,
                    "frames in order, none lost");
                var a = rec.Audio[0];
                Assert.AreEqual(AudioCodec.Pcm, a.Codec);
                Assert.AreEqual(2u, a.Channels);
                Assert.AreEqual(48000u, a.SampleRate);
                Assert.AreEqual(48000 / 50 * 2 * 2, a.Data.Length, "20 ms of s16 stereo");
                var r = rec.Rumble[rec.Rumble.Count - 1];
                Assert.AreEqual(0, r.Controller);
                Assert.AreEqual(11, r.LeftTrigger);
                Assert.AreEqual(222, r.RightTrigger);
                Assert.AreEqual((ulong)rec.Frames.Count, stats.FramesDelivered);
                Assert.GreaterOrEqual(stats.KeyframeRequests, 1ul);
                Assert.GreaterOrEqual(stats.InputFramesSent, 1ul);
                CollectionAssert.AreEqual(
                    new[] { ClientState.Connected, ClientState.Streaming, ClientState.Closed },
                    rec.States.Select(s => s.State).ToArray());
                Assert.AreEqual(ResultCode.Ok, rec.States.Last().Error);

                var ss = sim.Stats;
                Assert.GreaterOrEqual(ss.InputFramesReceived, 1ul);
                Assert.GreaterOrEqual(ss.RumbleSent, 1ul);
                Assert.GreaterOrEqual(ss.VideoFramesSent, (ulong)rec.Frames.Count);
            }
        }

        [Test]
        public void RealH264AndOpus()
        {
            var rec = new Recorder();
            var cfg = new SimConfig { Width = 320, Height = 240, Fps = 30, BitrateBps = 500000, KeyframeInterval = 30 };
            using (var sim = new Simulator(cfg))
            using (var c = new Client())
            {
                rec.Attach(c);
                c.Connect(sim);
                Assert.IsTrue(WaitFor(() => rec.Count(rec.Frames) >= 10 && rec.Count(rec.Audio) >= 10), c.Stats.ToString());
            }
            var f = rec.Frames[0];
            Assert.IsTrue(f.Keyframe);
            CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 1 }, f.Data.Take(4).ToArray(), "Annex B start code");
            var nalTypes = new HashSet<int>();
            for (var i = 0; i + 3 < f.Data.Length; i++)
            {
                if (f.Data[i] == 0 && f.Data[i + 1] == 0 && f.Data[i + 2] == 1)
                {
                    nalTypes.Add(f.Data[i + 3] & 0x1F);
                }
            }
            Assert.That(nalTypes.Contains(7) && nalTypes.Contains(8) && nalTypes.Contains(5),
                "SPS, PPS and IDR slice in the first frame: " + string.Join(",", nalTypes));
            var a = rec.Audio[0];
            Assert.AreEqual(AudioCodec.Opus, a.Codec);
            Assert.AreEqual(2u, a.Channels);
            Assert.AreEqual(48000u, a.SampleRate);
            Assert.That(a.Data.Length > 0 && a.Data.Length < 1500, a.Data.Length.ToString());
        }

        [Test]
        public void PullMode()
        {
            using (var sim = new Simulator(CheapSim()))
            using (var c = new Client(new ClientConfig { EventQueueCapacity = 512 }))
            {
                var raised = 0;
                c.VideoFrameReceived += (s, e) => Interlocked.Increment(ref raised);
                c.Connect(sim);
                int video = 0, audio = 0, rumble = 0;
                var states = new List<StateChange>();
                var tick = PressLoop(c);
                var end = DateTime.UtcNow.AddSeconds(20);
                while (DateTime.UtcNow < end && !(video >= 20 && audio >= 5 && rumble >= 1))
                {
                    tick();
                    var ev = c.NextEvent(TimeSpan.FromMilliseconds(50));
                    if (ev is VideoFrame vf)
                    {
                        Assert.AreEqual(320u, vf.Width);
                        Assert.Greater(vf.Data.Length, 0);
                        video++;
                    }
                    else if (ev is AudioPacket)
                    {
                        audio++;
                    }
                    else if (ev is Rumble r)
                    {
                        Assert.AreEqual(222, r.RightTrigger);
                        rumble++;
                    }
                    else if (ev is StateChange sc)
                    {
                        states.Add(sc);
                    }
                }
                Assert.That(video >= 20 && audio >= 5 && rumble >= 1, $"video {video} audio {audio} rumble {rumble}");
                Assert.AreEqual(ClientState.Connected, states[0].State);
                Assert.AreEqual(0, raised, "pull mode raises no events");
                c.Stop();
                var rest = new List<ClientEvent>();
                var ex = Assert.Throws<XnanoException>(() =>
                {
                    while (true)
                    {
                        var ev = c.NextEvent(TimeSpan.FromSeconds(1));
                        Assert.IsNotNull(ev, "timed out before the session reported closed");
                        rest.Add(ev);
                    }
                });
                Assert.AreEqual(ResultCode.Closed, ex.Code);
                var last = rest.Last() as StateChange;
                Assert.IsNotNull(last);
                Assert.AreEqual(ClientState.Closed, last.State);
                Assert.AreEqual(ResultCode.Ok, last.Error);
            }
        }

        [Test]
        public void ErrorsBecomeExceptions()
        {
            // Nothing listens on this port: connection refused.
            var port = ClosedPort();
            using (var c = new Client())
            {
                var ex = Assert.Throws<XnanoException>(() => c.ConnectNano("127.0.0.1", port, port));
                Assert.AreEqual(ResultCode.Io, ex.Code);
                Assert.AreEqual("XNANO_ERR_IO", ex.CodeName);
                Assert.IsNotEmpty(ex.Message);
                Assert.AreEqual(ClientState.Idle, c.State, "a failed connect leaves the client idle");
                Assert.IsFalse(c.IsReferencedByNative, "no session: nothing keeps the client alive");

                Assert.AreEqual(ResultCode.WrongState,
                    Assert.Throws<XnanoException>(() => c.SetControllerState(0, new ControllerState { Buttons = Buttons.A })).Code);
                Assert.AreEqual(ResultCode.WrongState, Assert.Throws<XnanoException>(() => c.RequestKeyframe()).Code);
                Assert.AreEqual(ResultCode.WrongState, Assert.Throws<XnanoException>(() => c.NextEvent(TimeSpan.Zero)).Code);
                Assert.AreEqual(ResultCode.InvalidArgument,
                    Assert.Throws<XnanoException>(() => c.SetControllerState(9, new ControllerState())).Code);
                Assert.AreEqual(ResultCode.InvalidArgument,
                    Assert.Throws<XnanoException>(() => c.ChangeVideoQuality(1, 2, 3)).Code);
                Assert.Throws<ArgumentNullException>(() => c.ConnectNano(null, 1, 1));
                Assert.Throws<ArgumentException>(() => c.ConnectNano("bad\0host", 1, 1));
                Assert.AreEqual(0ul, c.Stats.FramesDelivered);
                c.Stop(); // never connected: fine
            }
            var disposed = new Client();
            disposed.Dispose();
            disposed.Dispose(); // twice: fine
            Assert.Throws<ObjectDisposedException>(() => disposed.RequestKeyframe());
            Assert.Throws<ObjectDisposedException>(() => { var s = disposed.State; });

            var bad = Assert.Throws<XnanoException>(() => new Client(new ClientConfig { ConnectTimeout = TimeSpan.Zero }));
            Assert.AreEqual(ResultCode.InvalidArgument, bad.Code);
            StringAssert.Contains("connect_timeout_ms", bad.Message);
            Assert.AreEqual(ResultCode.InvalidArgument,
                Assert.Throws<XnanoException>(() => new Simulator(new SimConfig { Fps = 0 })).Code);
            Assert.Throws<ArgumentOutOfRangeException>(() => new ClientConfig { ConnectTimeout = TimeSpan.FromSeconds(-1) });

            var sim = new Simulator(CheapSim());
            sim.Dispose();
            Assert.Throws<ObjectDisposedException>(() => { var s = sim.Stats; });
        }

        [Test]
        public void StopFromOwnHandlerIsRefusedDisposeDetaches()
        {
            using (var sim = new Simulator(CheapSim()))
            {
                var c = new Client();
                ResultCode? stopResult = null;
                Exception otherError = null;
                var calls = 0;
                var done = new ManualResetEvent(false);
                c.StateChanged += (s, e) => Interlocked.Increment(ref calls);
                c.AudioPacketReceived += (s, e) => Interlocked.Increment(ref calls);
                c.VideoFrameReceived += (s, f) =>
                {
                    Interlocked.Increment(ref calls);
                    if (done.WaitOne(0))
                    {
                        return;
                    }
                    try
                    {
                        c.Stop();
                        stopResult = ResultCode.Ok;
                    }
                    catch (XnanoException e)
                    {
                        stopResult = e.Code;
                    }
                    try
                    {
                        // Other calls from a handler are fine.
                        c.RequestKeyframe();
                        var unused = c.Stats;
                        // ABI 1: a free from inside the client's own callback detaches it.
                        c.Dispose();
                        c.Dispose();
                    }
                    catch (Exception e)
                    {
                        otherError = e;
                    }
                    done.Set();
                };
                c.Connect(sim);
                Assert.IsTrue(done.WaitOne(20000), "no video frame");
                Assert.AreEqual(ResultCode.FromCallback, stopResult, "stop from a handler would deadlock");
                Assert.IsNull(otherError, otherError?.ToString());
                Assert.Throws<ObjectDisposedException>(() => { var st = c.State; });
                c.Stop(); // disposed: nothing to do
                Assert.IsTrue(WaitFor(() => !sim.Stats.ClientConnected), "the detached client went away");
                var n = Volatile.Read(ref calls);
                Thread.Sleep(300);
                Assert.AreEqual(n, Volatile.Read(ref calls), "nothing raised after the detached client's handler");
            }
        }

        [Test]
        public void ConnectAgainAfterAFailedConnectPushMode()
        {
            ConnectAgainAfterAFailedConnect(false);
        }

        [Test]
        public void ConnectAgainAfterAFailedConnectPullMode()
        {
            ConnectAgainAfterAFailedConnect(true);
        }

        // A failed connect leaves the client idle with no callback installed and nothing
        // referenced; connecting again (to the simulated console) then works normally, in push
        // mode with every event delivered through the callbacks installed by the second connect.
        private static void ConnectAgainAfterAFailedConnect(bool pull)
        {
            using (var sim = new Simulator(CheapSim()))
            using (var c = new Client(pull ? new ClientConfig { EventQueueCapacity = 512 } : null))
            {
                var rec = new Recorder();
                rec.Attach(c);
                for (var attempt = 0; attempt < 2; attempt++)
                {
                    var port = ClosedPort();
                    var ex = Assert.Throws<XnanoException>(() => c.ConnectNano("127.0.0.1", port, port));
                    Assert.AreEqual(ResultCode.Io, ex.Code);
                    Assert.AreEqual(ClientState.Idle, c.State);
                    Assert.IsFalse(c.IsReferencedByNative, "a failed connect keeps nothing alive");
                }
                // Move and reuse what can be: a stale user_data would now point at garbage.
                for (var i = 0; i < 3; i++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }
                var junk = Enumerable.Range(0, 1000).Select(i => System.Runtime.InteropServices.GCHandle.Alloc(new object())).ToList();
                junk.ForEach(h => h.Free());

                c.Connect(sim);
                Assert.AreEqual(!pull, c.IsReferencedByNative);
                if (pull)
                {
                    var video = 0;
                    var end = DateTime.UtcNow.AddSeconds(20);
                    while (DateTime.UtcNow < end && video < 20)
                    {
                        if (c.NextEvent(TimeSpan.FromMilliseconds(100)) is VideoFrame)
                        {
                            video++;
                        }
                    }
                    Assert.AreEqual(20, video, "frames through the queue after the failed connects");
                    Assert.AreEqual(0, rec.Count(rec.Frames) + rec.Count(rec.States), "pull mode: no callbacks installed");
                    c.Stop();
                }
                else
                {
                    Assert.IsTrue(WaitFor(() => rec.Count(rec.Frames) >= 20 && rec.Count(rec.Audio) >= 5), c.Stats.ToString());
                    var stats = c.Stop();
                    Assert.IsFalse(c.IsReferencedByNative);
                    Assert.AreEqual((ulong)rec.Count(rec.Frames), stats.FramesDelivered);
                    CollectionAssert.AreEqual(
                        new[] { ClientState.Connected, ClientState.Streaming, ClientState.Closed },
                        rec.States.Select(x => x.State).ToArray(), "one session's states, once each");
                }
                Assert.AreEqual(1ul, sim.Stats.ClientsAccepted);
            }
        }

        [Test]
        public void StopAndDisposeRaceFromTwoThreads()
        {
            // Stop and Dispose at once, many times, in every phase of a session (connecting,
            // streaming): both return without error, and once both returned no callback runs.
            using (var sim = new Simulator(CheapSim()))
            {
                for (var round = 0; round < 40; round++)
                {
                    var calls = new int[1];
                    var c = new Client();
                    c.VideoFrameReceived += (s, e) => Interlocked.Increment(ref calls[0]);
                    c.AudioPacketReceived += (s, e) => Interlocked.Increment(ref calls[0]);
                    c.StateChanged += (s, e) => Interlocked.Increment(ref calls[0]);
                    c.Connect(sim);
                    if (round % 4 != 0)
                    {
                        Assert.IsTrue(WaitFor(() => Volatile.Read(ref calls[0]) >= 5, null, 10000), "round " + round + ": streaming");
                    }
                    var go = new ManualResetEvent(false);
                    var errors = new Exception[2];
                    var threads = new[]
                    {
                        new Thread(() => { go.WaitOne(); try { c.Stop(); } catch (Exception e) { errors[0] = e; } }),
                        new Thread(() => { go.WaitOne(); try { c.Dispose(); } catch (Exception e) { errors[1] = e; } }),
                    };
                    foreach (var t in threads)
                    {
                        t.Start();
                    }
                    go.Set();
                    foreach (var t in threads)
                    {
                        Assert.IsTrue(t.Join(20000), "round " + round + ": Stop and Dispose return");
                    }
                    Assert.IsNull(errors[0], "round " + round + ": Stop: " + errors[0]);
                    Assert.IsNull(errors[1], "round " + round + ": Dispose: " + errors[1]);
                    var after = Volatile.Read(ref calls[0]);
                    Thread.Sleep(round % 8 == 1 ? 200 : 20);
                    Assert.AreEqual(after, Volatile.Read(ref calls[0]), "round " + round + ": a callback ran after Stop and Dispose returned");
                    Assert.IsFalse(c.IsReferencedByNative, "round " + round);
                    Assert.Throws<ObjectDisposedException>(() => c.RequestKeyframe());
                    c.Stop();
                    c.Dispose();
                }
                Assert.IsTrue(WaitFor(() => !sim.Stats.ClientConnected), "the last client went away");
            }
        }

        [Test]
        public void CallbacksAreStaticAndMarkedForAot()
        {
            // Every delegate handed to native code is a static readonly field over a static
            // method with [MonoPInvokeCallback(typeof(ThatDelegate))] (IL2CPP / full AOT).
            var delegateTypes = typeof(NativeMethods).GetNestedTypes()
                .Where(t => typeof(Delegate).IsAssignableFrom(t)).ToList();
            Assert.AreEqual(6, delegateTypes.Count);
            var found = new List<string>();
            const BindingFlags all = BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            foreach (var type in typeof(Client).Assembly.GetTypes())
            {
                foreach (var f in type.GetFields(all).Where(x => delegateTypes.Contains(x.FieldType)))
                {
                    var where = type.Name + "." + f.Name;
                    // mcs caches method-group conversions in compiler-generated static fields
                    // (<>f__mg$cache0): those are checked for their target only.
                    var generated = f.GetCustomAttributes(typeof(CompilerGeneratedAttribute), false).Length > 0 || f.Name.Contains("<");
                    Assert.IsTrue(f.IsStatic && (f.IsInitOnly || generated), where + " is static readonly");
                    var d = (Delegate)f.GetValue(null);
                    Assert.IsNotNull(d, where);
                    Assert.IsTrue(d.Method.IsStatic, where + " is a static method");
                    Assert.IsNull(d.Target, where);
                    var attr = d.Method.GetCustomAttributes(false).SingleOrDefault(a => a.GetType().Name == "MonoPInvokeCallbackAttribute");
                    Assert.IsNotNull(attr, where + ": [MonoPInvokeCallback] on " + d.Method.Name);
                    Assert.AreEqual(f.FieldType, attr.GetType().GetProperty("Type").GetValue(attr, null), where);
                    if (!generated)
                    {
                        found.Add(d.Method.DeclaringType.Name + "." + d.Method.Name);
                    }
                }
                foreach (var m in type.GetMethods(all))
                {
                    if (m.GetCustomAttributes(false).Any(a => a.GetType().Name == "MonoPInvokeCallbackAttribute"))
                    {
                        Assert.IsTrue(m.IsStatic, type.Name + "." + m.Name);
                    }
                }
            }
            CollectionAssert.AreEquivalent(
                new[] { "Client.OnVideo", "Client.OnAudio", "Client.OnRumble", "Client.OnState", "XboxConsole.OnEvent", "Library.OnLog" },
                found);
        }

        [Test]
        public void ConsoleClosingTheSessionIsReported()
        {
            using (var sim = new Simulator(CheapSim()))
            using (var c = new Client())
            {
                var rec = new Recorder();
                rec.Attach(c);
                c.Connect(sim);
                Assert.IsTrue(WaitFor(() => rec.Count(rec.Frames) >= 1));
                sim.CloseClient();
                Assert.IsTrue(WaitFor(() => c.State == ClientState.Closed), c.State.ToString());
                Assert.IsTrue(WaitFor(() => rec.Count(rec.States) >= 1 && rec.States.Last().State == ClientState.Closed));
                var last = rec.States.Last();
                Assert.AreNotEqual(ResultCode.Ok, last.Error, last.ToString());
                Assert.AreEqual(1, rec.States.Count(s => s.State == ClientState.Closed), "CLOSED comes once");
                Assert.Throws<XnanoException>(() => c.RequestKeyframe());
            }
        }

        [Test]
        public void HandlerExceptionsGoToCallbackError()
        {
            using (var sim = new Simulator(CheapSim()))
            using (var c = new Client())
            {
                var errors = 0;
                var frames = 0;
                c.VideoFrameReceived += (s, f) =>
                {
                    Interlocked.Increment(ref frames);
                    throw new InvalidOperationException("boom");
                };
                c.CallbackError += (s, e) =>
                {
                    Assert.IsInstanceOf<InvalidOperationException>(e.Exception);
                    Interlocked.Increment(ref errors);
                };
                c.Connect(sim);
                Assert.IsTrue(WaitFor(() => Volatile.Read(ref frames) >= 10), "the stream goes on after a throwing handler");
                Assert.GreaterOrEqual(Volatile.Read(ref errors), 10);
                Assert.AreEqual(ClientState.Streaming, c.State);
            }
        }

        [Test]
        public void ChatAudioReachesTheConsole()
        {
            using (var sim = new Simulator(CheapSim()))
            using (var c = new Client())
            {
                var frames = 0;
                c.VideoFrameReceived += (s, f) => Interlocked.Increment(ref frames);
                c.Connect(sim);
                Assert.IsTrue(WaitFor(() => Volatile.Read(ref frames) >= 5));
                var ok = WaitFor(() => sim.Stats.ChatAudioReceived >= 1, () =>
                {
                    try
                    {
                        c.SendChatAudio(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 });
                    }
                    catch (XnanoException e) when (e.Code == ResultCode.WrongState)
                    {
                        // channel not open yet
                    }
                });
                Assert.IsTrue(ok, sim.Stats.ToString());
                Assert.GreaterOrEqual(c.Stats.ChatAudioSent, 1ul);
                Assert.Throws<ArgumentNullException>(() => c.SendChatAudio(null));
            }
        }

        [Test]
        public void GarbageCollectionDuringAStream()
        {
            // The callback delegates and the client must survive collections while streaming
            // (nothing but native code references the client); a forgotten client becomes
            // collectable once its session closed.
            using (var sim = new Simulator(CheapSim()))
            {
                var counter = new int[1];
                var weak = StartForgottenClient(sim, counter);
                for (var i = 0; i < 5; i++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    Thread.Sleep(50);
                }
                var before = Volatile.Read(ref counter[0]);
                Assert.IsTrue(WaitFor(() => Volatile.Read(ref counter[0]) >= before + 20),
                    "frames keep coming to a client only native code references");
                Assert.IsTrue(weak.IsAlive, "a connected client stays alive");
                sim.CloseClient();
                Assert.IsTrue(WaitFor(() => StateOf(weak) == ClientState.Closed), "the console closed the session");
                Assert.IsTrue(WaitFor(() => ReferencedByNative(weak) == false),
                    "once closed, native code no longer keeps the client alive");
                // Collection itself cannot be asserted under Mono's conservative stack scanning;
                // the finalizer path (SafeHandle -> xnano_client_free) runs when it happens.
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ClientState? StateOf(WeakReference weak) => (weak.Target as Client)?.State;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool? ReferencedByNative(WeakReference weak) => (weak.Target as Client)?.IsReferencedByNative;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static WeakReference StartForgottenClient(Simulator sim, int[] counter)
        {
            var c = new Client();
            c.VideoFrameReceived += (s, f) => Interlocked.Increment(ref counter[0]);
            c.Connect(sim);
            return new WeakReference(c);
        }

        [Test]
        public void LogHandlerReceivesMessages()
        {
            var messages = new List<string>();
            Library.SetLogHandler((level, target, text) =>
            {
                lock (messages) messages.Add(level + " " + target + ": " + text);
            }, LogLevel.Debug);
            try
            {
                using (var sim = new Simulator(CheapSim()))
                using (var c = new Client())
                {
                    var frames = 0;
                    c.VideoFrameReceived += (s, f) => Interlocked.Increment(ref frames);
                    c.Connect(sim);
                    Assert.IsTrue(WaitFor(() => Volatile.Read(ref frames) >= 1));
                }
                lock (messages)
                {
                    Assert.IsNotEmpty(messages);
                    Assert.That(messages.Any(m => m.Contains("xnano")), string.Join("\n", messages.Take(5)));
                }
            }
            finally
            {
                Library.SetLogHandler(null);
            }
            int n;
            lock (messages) n = messages.Count;
            using (var sim = new Simulator(CheapSim()))
            {
            }
            lock (messages) Assert.AreEqual(n, messages.Count, "no messages after the handler was removed");
        }
    }
}
