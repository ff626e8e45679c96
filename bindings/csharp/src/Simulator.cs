using System;
using Xnano.Native;

namespace Xnano
{
    /// <summary>
    /// A simulated console (<c>xnano_sim</c>) listening on 127.0.0.1: it streams video and
    /// audio to one client at a time and answers input with rumble (trigger values echoed).
    /// </summary>
    public sealed class Simulator : IDisposable
    {
        /// <summary>The address the simulated console listens on.</summary>
        public const string Host = "127.0.0.1";

        private readonly SimHandle _handle;

        /// <summary>Starts a simulated console (<c>xnano_sim_new</c>); null config: defaults.</summary>
        public Simulator(SimConfig config = null)
        {
            Boundary.Enter();
            var native = (config ?? new SimConfig()).Native;
            native.struct_size = StructSize.SimConfig;
            XnanoException.Check(NativeMethods.xnano_sim_new(ref native, out IntPtr p));
            _handle = new SimHandle(p);
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_sim_nano_ports(h.Ptr, out ushort tcp, out ushort udp));
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

        private HandleUse Use() => new HandleUse(_handle, nameof(Simulator));

        /// <summary>The console's counters (final after <see cref="Stop"/>).</summary>
        public SimStats Stats
        {
            get
            {
                using (var h = Use())
                {
                    var s = new xnano_sim_stats { struct_size = StructSize.SimStats };
                    XnanoException.Check(NativeMethods.xnano_sim_get_stats(h.Ptr, ref s));
                    return new SimStats(s);
                }
            }
        }

        /// <summary>Ends the current client's session from the console's side; it keeps listening.</summary>
        public void CloseClient()
        {
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_sim_close_client(h.Ptr));
            }
        }

        /// <summary>Stops the console; counters stay readable. Stopping twice does nothing.</summary>
        public void Stop()
        {
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_sim_stop(h.Ptr));
            }
        }

        /// <summary>The SmartGlass UDP port on <see cref="Host"/> (WrongState without SmartGlass).</summary>
        public ushort SmartGlassPort
        {
            get
            {
                using (var h = Use())
                {
                    XnanoException.Check(NativeMethods.xnano_sim_smartglass_port(h.Ptr, out ushort port));
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
                    var info = StructSize.NewConsoleInfo();
                    XnanoException.Check(NativeMethods.xnano_sim_console_info(h.Ptr, ref info));
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
                    XnanoException.Check(NativeMethods.xnano_sim_smartglass_powered_on(h.Ptr, out bool on));
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
                XnanoException.Check(NativeMethods.xnano_sim_smartglass_message_count(h.Ptr, Utf8.Encode(messageType), out ulong n));
                return n;
            }
        }

        /// <summary>Opens a text entry session on every connected SmartGlass client with the
        /// SystemText channel open; returns how many it reached.</summary>
        public uint StartTextSession(string prompt = null)
        {
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_sim_start_text_session(h.Ptr, Utf8.Encode(prompt), out uint n));
                return n;
            }
        }

        /// <summary>Stops and frees the console.</summary>
        public void Dispose()
        {
            _handle.Dispose();
        }
    }
}
