// The split between the client (Xnano.dll over libxnano) and the simulated console
// (Xnano.Sim.dll over libxnano_sim): the client assembly has nothing of the simulator, the
// simulator's structs match its own header, and its errors come from its own library.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Xnano;
using Xnano.Native;
using Xnano.Sim;
using Xnano.Sim.Native;

namespace Xnano.Tests
{
    [TestFixture]
    public class SimTests
    {
        private static readonly Regex SimName = new Regex(@"xnano_sim|XNANO_SIM|Simulat|^Sim[A-Z]|Xnano\.Sim");

        private static IEnumerable<MethodInfo> PInvokes(Assembly a)
        {
            const BindingFlags all = BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            return a.GetTypes().SelectMany(t => t.GetMethods(all)).Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0);
        }

        private static DllImportAttribute DllImportOf(MethodInfo m)
        {
            var attr = (DllImportAttribute)Attribute.GetCustomAttribute(m, typeof(DllImportAttribute));
            Assert.IsNotNull(attr, m.DeclaringType.Name + "." + m.Name + " has [DllImport]");
            return attr;
        }

        private static string EntryPoint(MethodInfo m)
        {
            var ep = DllImportOf(m).EntryPoint;
            return string.IsNullOrEmpty(ep) ? m.Name : ep;
        }

        [Test]
        public void TheClientAssemblyHasNothingOfTheSimulator()
        {
            // An application ships Xnano.dll without Xnano.Sim.dll and libxnano_sim: no type,
            // member, P/Invoke or reference of Xnano may name the simulator.
            var xnano = typeof(Client).Assembly;
            Assert.AreEqual("Xnano", xnano.GetName().Name);
            const BindingFlags all = BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            var offending = new List<string>();
            var types = xnano.GetTypes();
            Assert.Greater(types.Length, 20);
            foreach (var t in types)
            {
                if (SimName.IsMatch(t.Name) || SimName.IsMatch(t.FullName))
                {
                    offending.Add("type " + t.FullName);
                }
                foreach (var member in t.GetMembers(all))
                {
                    if (SimName.IsMatch(member.Name))
                    {
                        offending.Add("member " + t.FullName + "." + member.Name);
                    }
                    var m = member as MethodBase;
                    if (m != null)
                    {
                        foreach (var p in m.GetParameters())
                        {
                            if (p.ParameterType.Assembly != xnano && SimName.IsMatch(p.ParameterType.FullName ?? p.ParameterType.Name))
                            {
                                offending.Add("parameter " + t.FullName + "." + m.Name + "(" + p.ParameterType.FullName + ")");
                            }
                        }
                    }
                }
            }
            var pinvokes = PInvokes(xnano).ToList();
            Assert.Greater(pinvokes.Count, 50, "the client's P/Invokes are found");
            foreach (var m in pinvokes)
            {
                var attr = DllImportOf(m);
                if (attr.Value != NativeMethods.Library)
                {
                    offending.Add("P/Invoke " + m.Name + " imports from \"" + attr.Value + "\"");
                }
                if (!EntryPoint(m).StartsWith("xnano_", StringComparison.Ordinal) || EntryPoint(m).StartsWith("xnano_sim", StringComparison.Ordinal))
                {
                    offending.Add("P/Invoke " + m.Name + " -> " + EntryPoint(m));
                }
            }
            foreach (var r in xnano.GetReferencedAssemblies())
            {
                if (SimName.IsMatch(r.Name))
                {
                    offending.Add("reference " + r.FullName);
                }
            }
            // And nowhere in the file: metadata names, module references and string literals.
            var bytes = File.ReadAllBytes(xnano.Location);
            foreach (var s in new[] { "xnano_sim", "XNANO_SIM", "Xnano.Sim", "Simulator" })
            {
                if (IndexOf(bytes, Encoding.ASCII.GetBytes(s)) >= 0 || IndexOf(bytes, Encoding.Unicode.GetBytes(s)) >= 0)
                {
                    offending.Add("\"" + s + "\" in " + Path.GetFileName(xnano.Location));
                }
            }
            CollectionAssert.IsEmpty(offending);
        }

        private static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (var i = 0; i + needle.Length <= haystack.Length; i++)
            {
                var j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j])
                {
                    j++;
                }
                if (j == needle.Length)
                {
                    return i;
                }
            }
            return -1;
        }

        [Test]
        public void TheSimAssemblyImportsOnlyLibxnanoSim()
        {
            var sim = typeof(Simulator).Assembly;
            Assert.AreEqual("Xnano.Sim", sim.GetName().Name);
            var pinvokes = PInvokes(sim).ToList();
            CollectionAssert.AreEquivalent(
                new[]
                {
                    "xnano_sim_abi_version", "xnano_sim_last_error", "xnano_sim_config_default", "xnano_sim_new",
                    "xnano_sim_nano_ports", "xnano_sim_get_stats", "xnano_sim_close_client", "xnano_sim_stop",
                    "xnano_sim_free", "xnano_sim_smartglass_port", "xnano_sim_console_info",
                    "xnano_sim_smartglass_powered_on", "xnano_sim_smartglass_message_count", "xnano_sim_start_text_session",
                },
                pinvokes.Select(EntryPoint).ToList());
            foreach (var m in pinvokes)
            {
                Assert.AreEqual("xnano_sim", DllImportOf(m).Value, m.Name);
                Assert.AreEqual(CallingConvention.Cdecl, DllImportOf(m).CallingConvention, m.Name);
            }
            // Every function of sim/include/xnano_sim.h is declared.
            var header = File.ReadAllText(Path.Combine(ClientTests.RepoRoot(), "sim", "include", "xnano_sim.h"));
            var declared = Regex.Matches(header, @"^[\w\s\*]*?\b(xnano_sim_\w+)\s*\(", RegexOptions.Multiline)
                .Cast<Match>().Select(m => m.Groups[1].Value).Distinct().ToList();
            Assert.Greater(declared.Count, 10);
            CollectionAssert.AreEquivalent(declared, pinvokes.Select(EntryPoint).ToList());
        }

        [Test]
        public void SimStructLayoutsMatchTheSimHeader()
        {
            // XNANO_SIM_LAYOUT: "struct field offset" and "struct sizeof size" lines printed by a
            // C program compiled against sim/include/xnano_sim.h (scripts/test-csharp.sh).
            var path = Environment.GetEnvironmentVariable("XNANO_SIM_LAYOUT");
            if (string.IsNullOrEmpty(path))
            {
                Assert.Ignore("XNANO_SIM_LAYOUT not set");
            }
            var checkedFields = 0;
            var structs = new HashSet<string>();
            foreach (var line in File.ReadAllLines(path))
            {
                var parts = line.Split(' ');
                var type = typeof(SimNativeMethods).Assembly.GetType("Xnano.Sim.Native." + parts[0]);
                Assert.IsNotNull(type, parts[0]);
                structs.Add(parts[0]);
                var expected = long.Parse(parts[2]);
                if (parts[1] == "sizeof")
                {
                    Assert.AreEqual(expected, Marshal.SizeOf(type), "sizeof " + parts[0]);
                }
                else
                {
                    Assert.AreEqual(expected, Marshal.OffsetOf(type, parts[1]).ToInt64(), parts[0] + "." + parts[1]);
                    checkedFields++;
                }
            }
            CollectionAssert.AreEquivalent(new[] { "xnano_sim_config", "xnano_sim_stats" }, structs);
            Assert.Greater(checkedFields, 40);
        }

        [Test]
        public void SimErrorsComeFromXnanoSimLastError()
        {
            // Each library has its own thread-local last error: a failed xnano_sim_* call sets
            // xnano_sim_last_error() and leaves libxnano's xnano_last_error() alone.
            var clientError = Assert.Throws<XnanoException>(() => new Client(new ClientConfig { ConnectTimeout = TimeSpan.Zero }));
            StringAssert.Contains("connect_timeout_ms", clientError.Message);
            var simError = Assert.Throws<XnanoException>(() => new Simulator(new SimConfig { Fps = 0 }));
            Assert.AreEqual(ResultCode.InvalidArgument, simError.Code);
            Assert.AreEqual("XNANO_ERR_INVALID_ARGUMENT", simError.CodeName);
            var simLast = AbiTests.Marshal8(SimNativeMethods.xnano_sim_last_error());
            StringAssert.Contains("fps", simLast);
            Assert.AreEqual("XNANO_ERR_INVALID_ARGUMENT: " + simLast, simError.Message, "the message is xnano_sim_last_error()'s");
            StringAssert.DoesNotContain("connect_timeout_ms", simError.Message);
            StringAssert.Contains("connect_timeout_ms", AbiTests.Marshal8(NativeMethods.xnano_last_error()),
                "libxnano's last error is its own");
            using (var sim = new Simulator(new SimConfig { SmartGlass = false }))
            {
                var e = Assert.Throws<XnanoException>(() => { var p = sim.SmartGlassPort; });
                Assert.AreEqual(ResultCode.WrongState, e.Code);
                Assert.AreEqual("XNANO_ERR_WRONG_STATE: " + AbiTests.Marshal8(SimNativeMethods.xnano_sim_last_error()), e.Message);
                Assert.AreNotEqual("XNANO_ERR_WRONG_STATE: ", e.Message, "a message, not an empty one");
            }
        }

        [Test]
        public void TheSimulatorsConsoleInfoIsLibxnanosStruct()
        {
            // xnano_sim_console_info writes libxnano's xnano_console_info; ConsoleInfo reads it.
            using (var sim = new Simulator())
            {
                var info = sim.ConsoleInfo;
                Assert.IsNotEmpty(info.Name);
                Assert.AreEqual(sim.SmartGlassPort, info.Port);
                Assert.IsTrue(info.IsXboxOne);
                var raw = new xnano_console_info { struct_size = (uint)Marshal.SizeOf(typeof(xnano_console_info)) };
                raw.name = new byte[NativeMethods.XNANO_CONSOLE_NAME_SIZE];
                raw.live_id = new byte[NativeMethods.XNANO_LIVE_ID_SIZE];
                raw.address = new byte[NativeMethods.XNANO_ADDRESS_SIZE];
                raw.uuid = new byte[NativeMethods.XNANO_UUID_SIZE];
                Assert.AreEqual(NativeMethods.XNANO_OK, SimNativeMethods.xnano_sim_console_info(sim.Handle.DangerousGetHandle(), ref raw));
                Assert.AreEqual(info.LiveId, new ConsoleInfo(raw).LiveId);
                Assert.AreEqual("", new ConsoleInfo(new xnano_console_info()).Name, "a zero struct reads as empty");
            }
        }
    }
}
