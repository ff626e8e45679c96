using System;
using System.Runtime.InteropServices;
using Xnano.Native;
using Xnano.Sim.Native;

namespace Xnano.Sim
{
    /// <summary>
    /// A simulated console (libxnano_sim's <c>xnano_sim</c>) listening on 127.0.0.1: it streams
    /// video and audio to one client at a time and answers input with rumble (trigger values
    /// echoed); with <see cref="SimConfig.SmartGlass"/> also a SmartGlass console. A
    /// <see cref="Client"/> connects to it with <see cref="ClientSimulatorExtensions.Connect"/>.
    /// </summary>
    public sealed class Simulator : IDisposable
    {
        /// <summary>The address the simulated console listens on.</summary>
        public const string Host = "127.0.0.1";

        private readonly SimHandle _handle;

        /// <summary>Starts a simulated console (<c>xnano_sim_new</c>); null config: defaults.</summary>
        public Simulator(SimConfig config = null)
        {
            SimBoundary.Enter();
            var native = (config ?? new SimConfig()).Native;
            native.struct_size = SimStructSize.Config;
            SimBoundary.Check(SimNativeMethods.xnano_sim_new(ref native, out IntPtr p));
            _handle = new SimHandle(p);
            using (var h = Use())
            {
                SimBoundary.Check(SimNativeMethods.xnano_sim_nano_ports(h.Ptr, out ushort tcp, out ushort udp));
                TcpPort = tcp;
                UdpPort = udp;
            }
        }

        /// <summary>The native handle.</summary>
        public SimHandle Handle => _handle;

        /// <summary>The Nano control port (TCP) on <see cref="Host"/>.</summary>
        public ushort TcpPort { get; }

        /// <summary>The Nano data port (UDP) on <see cref="Host"/>.</summary>
        public ushort UdpPort { get; }

        private HandleUse Use() => SimBoundary.Use(_handle, nameof(Simulator));

        /// <summary>The console's counters (final after <see cref="Stop"/>).</summary>
        public SimStats Stats
        {
            get
            {
                using (var h = Use())
                {
                    var s = new xnano_sim_stats { struct_size = SimStructSize.Stats };
                    SimBoundary.Check(SimNativeMethods.xnano_sim_get_stats(h.Ptr, ref s));
                    return new SimStats(s);
                }
            }
        }

        /// <summary>Ends the current client's session from the console's side; it keeps listening.</summary>
        public void CloseClient()
        {
            using (var h = Use())
            {
                SimBoundary.Check(SimNativeMethods.xnano_sim_close_client(h.Ptr));
            }
        }

        /// <summary>Stops the console; counters stay readable. Stopping twice does nothing.</summary>
        public void Stop()
        {
            using (var h = Use())
            {
                SimBoundary.Check(SimNativeMethods.xnano_sim_stop(h.Ptr));
            }
        }

        /// <summary>The SmartGlass UDP port on <see cref="Host"/> (WrongState without SmartGlass).</summary>
        public ushort SmartGlassPort
        {
            get
            {
                using (var h = Use())
                {
                    SimBoundary.Check(SimNativeMethods.xnano_sim_smartglass_port(h.Ptr, out ushort port));
                    return port;
                }
            }
        }

        /// <summary>"127.0.0.1:PORT", the SmartGlass address to discover and connect to.</summary>
        public string SmartGlassAddress => Host + ":" + SmartGlassPort;

        /// <summary>What the simulated SmartGlass console announces, as discovery reports it.</summary>
        public ConsoleInfo ConsoleInfo
        {
            get
            {
                using (var h = Use())
                {
                    var info = NativeStructs.NewConsoleInfo();
                    SimBoundary.Check(SimNativeMethods.xnano_sim_console_info(h.Ptr, ref info));
                    return new ConsoleInfo(info);
                }
            }
        }

        /// <summary>Whether the simulated SmartGlass console is powered on.</summary>
        public bool SmartGlassPoweredOn
        {
            get
            {
                using (var h = Use())
                {
                    SimBoundary.Check(SimNativeMethods.xnano_sim_smartglass_powered_on(h.Ptr, out bool on));
                    return on;
                }
            }
        }

        /// <summary>How many SmartGlass messages of <paramref name="messageType"/> ("TitleLaunch",
        /// "Gamepad", ...; null: all) the console received.</summary>
        public ulong MessageCount(string messageType = null)
        {
            using (var h = Use())
            {
                SimBoundary.Check(SimNativeMethods.xnano_sim_smartglass_message_count(h.Ptr, Utf8.Encode(messageType), out ulong n));
                return n;
            }
        }

        /// <summary>Opens a text entry session on every connected SmartGlass client with the
        /// SystemText channel open; returns how many it reached.</summary>
        public uint StartTextSession(string prompt = null)
        {
            using (var h = Use())
            {
                SimBoundary.Check(SimNativeMethods.xnano_sim_start_text_session(h.Ptr, Utf8.Encode(prompt), out uint n));
                return n;
            }
        }

        /// <summary>Stops and frees the console.</summary>
        public void Dispose()
        {
            _handle.Dispose();
        }
    }

    /// <summary>Owns an <c>xnano_sim *</c>; releasing it calls <c>xnano_sim_free</c>.</summary>
    public sealed class SimHandle : SafeHandle
    {
        internal SimHandle(IntPtr p) : base(IntPtr.Zero, true)
        {
            SetHandle(p);
        }

        /// <inheritdoc/>
        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Stops and frees the simulated console.</summary>
        protected override bool ReleaseHandle()
        {
            SimNativeMethods.xnano_sim_free(handle);
            return true;
        }
    }

    /// <summary><see cref="Client"/> and the simulated console.</summary>
    public static class ClientSimulatorExtensions
    {
        /// <summary>Connects <paramref name="client"/> to a simulated console on this machine
        /// (<see cref="Client.ConnectNano"/> to <see cref="Simulator.Host"/> and its ports).</summary>
        public static void Connect(this Client client, Simulator sim)
        {
            if (client == null)
            {
                throw new ArgumentNullException(nameof(client));
            }
            if (sim == null)
            {
                throw new ArgumentNullException(nameof(sim));
            }
            client.ConnectNano(Simulator.Host, sim.TcpPort, sim.UdpPort);
        }
    }

    /// <summary>Process-wide facts of libxnano_sim: versions and the ABI check.</summary>
    public static class SimLibrary
    {
        /// <summary>The version of this binding (the crates' version).</summary>
        public const string BindingVersion = NativeMethods.XNANO_VERSION_STRING;

        /// <summary>The C ABI of libxnano_sim this binding needs (<c>XNANO_SIM_ABI_VERSION</c>).</summary>
        public const uint AbiVersion = SimNativeMethods.XNANO_SIM_ABI_VERSION;

        /// <summary>
        /// Checks that the loaded libxnano_sim has <see cref="AbiVersion"/>; throws
        /// <see cref="XnanoSimAbiException"/> (naming the file, what it found and what it
        /// needs) otherwise, or when the library lacks <c>xnano_sim_abi_version</c>. Every
        /// wrapper of this assembly runs the check before its first call into libxnano_sim
        /// (once per process). It does not check libxnano (<see cref="Library.CheckAbi"/> does).
        /// </summary>
        public static void CheckAbi() => SimBoundary.Enter();
    }
}
