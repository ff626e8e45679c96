// The ABI checks at load (ABI 1), one per native library: the real libraries pass; a library
// of another ABI, or one without its version function, is refused before anything else is
// called (XnanoAbiException for libxnano, XnanoSimAbiException for libxnano_sim, each checked
// on its own); and the client works as an application ships it, without the simulator.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Xnano;
using Xnano.Native;
using Xnano.Sim;
using Xnano.Sim.Native;

namespace Xnano.Tests
{
    [TestFixture]
    public class AbiTests
    {
        [Test]
        public void TheLoadedLibraryHasTheBindingsAbi()
        {
            Library.CheckAbi();
            Assert.AreEqual(1u, Library.AbiVersion);
            Assert.AreEqual(Library.AbiVersion, NativeMethods.xnano_abi_version());
            var header = File.ReadAllText(Path.Combine(ClientTests.RepoRoot(), "include", "xnano.h"));
            var m = Regex.Match(header, @"#define\s+XNANO_ABI_VERSION\s+(\d+)");
            Assert.IsTrue(m.Success, "XNANO_ABI_VERSION in include/xnano.h");
            Assert.AreEqual(NativeMethods.XNANO_ABI_VERSION.ToString(), m.Groups[1].Value);
        }

        [Test]
        public void TheLoadedSimLibraryHasTheBindingsAbi()
        {
            SimLibrary.CheckAbi();
            Assert.AreEqual(1u, SimLibrary.AbiVersion);
            Assert.AreEqual(SimLibrary.AbiVersion, SimNativeMethods.xnano_sim_abi_version());
            var header = File.ReadAllText(Path.Combine(ClientTests.RepoRoot(), "sim", "include", "xnano_sim.h"));
            var m = Regex.Match(header, @"#define\s+XNANO_SIM_ABI_VERSION\s+(\d+)");
            Assert.IsTrue(m.Success, "XNANO_SIM_ABI_VERSION in sim/include/xnano_sim.h");
            Assert.AreEqual(SimNativeMethods.XNANO_SIM_ABI_VERSION.ToString(), m.Groups[1].Value);
        }

        [Test]
        public void StructSizeIsSetOnEveryCall()
        {
            // The library refuses a struct_size of 0: the wrappers must set it (they do, or the
            // other tests would fail); the raw layer shows the rule.
            using (var c = new Client())
            {
                var s = new xnano_client_stats();
                Assert.AreEqual(NativeMethods.XNANO_ERR_INVALID_ARGUMENT,
                    NativeMethods.xnano_client_get_stats(c.Handle.DangerousGetHandle(), ref s));
                s.struct_size = (uint)System.Runtime.InteropServices.Marshal.SizeOf(typeof(xnano_client_stats));
                Assert.AreEqual(NativeMethods.XNANO_OK, NativeMethods.xnano_client_get_stats(c.Handle.DangerousGetHandle(), ref s));
                Assert.AreEqual((uint)System.Runtime.InteropServices.Marshal.SizeOf(typeof(xnano_client_stats)), s.struct_size,
                    "the library knows as many bytes as this binding");
            }
        }

        [Test]
        public void SimStructSizeIsSetOnEveryCall()
        {
            using (var sim = new Simulator())
            {
                var size = (uint)System.Runtime.InteropServices.Marshal.SizeOf(typeof(xnano_sim_stats));
                var s = new xnano_sim_stats();
                Assert.AreEqual(NativeMethods.XNANO_ERR_INVALID_ARGUMENT,
                    SimNativeMethods.xnano_sim_get_stats(sim.Handle.DangerousGetHandle(), ref s));
                StringAssert.Contains("struct_size", Marshal8(SimNativeMethods.xnano_sim_last_error()));
                s.struct_size = size;
                Assert.AreEqual(NativeMethods.XNANO_OK, SimNativeMethods.xnano_sim_get_stats(sim.Handle.DangerousGetHandle(), ref s));
                Assert.AreEqual(size, s.struct_size, "the library knows as many bytes as this binding");
            }
        }

        internal static string Marshal8(IntPtr p)
        {
            // libxnano's messages are ASCII in these tests; PtrToStringAnsi is UTF-8 on Mono/Linux.
            return System.Runtime.InteropServices.Marshal.PtrToStringAnsi(p) ?? "";
        }

        /// <summary>Runs <paramref name="exe"/> of the directory XNANO_ABI_FAKES/<paramref name="fake"/>
        /// (scripts/test-csharp.sh fills it) with LD_LIBRARY_PATH there; returns its output lines
        /// after asserting that it exited 0.</summary>
        private static List<string> RunProbe(string fake, string library, string exe, string args = "")
        {
            var root = Environment.GetEnvironmentVariable("XNANO_ABI_FAKES");
            if (string.IsNullOrEmpty(root))
            {
                Assert.Ignore("XNANO_ABI_FAKES not set");
            }
            var dir = Path.Combine(root, fake);
            var lib = Path.Combine(dir, library);
            Assert.IsTrue(File.Exists(lib), lib);
            var mono = Environment.GetEnvironmentVariable("XNANO_MONO");
            var psi = new ProcessStartInfo(string.IsNullOrEmpty(mono) ? "mono" : mono, (exe + " " + args).Trim())
            {
                WorkingDirectory = dir,
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.EnvironmentVariables["LD_LIBRARY_PATH"] = dir;
            string output, errors;
            int exit;
            using (var p = Process.Start(psi))
            {
                var stderr = p.StandardError.ReadToEndAsync();
                output = p.StandardOutput.ReadToEnd();
                Assert.IsTrue(p.WaitForExit(60000), "the probe exits");
                errors = stderr.Result;
                exit = p.ExitCode;
            }
            var report = "probe output:\n" + output + "\nstderr:\n" + errors;
            var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            Assert.AreEqual(0, exit, report);
            lines.Add("report: " + report.Replace('\n', '|'));
            return lines;
        }

        private static string Report(List<string> lines) => lines.Last();

        /// <summary>The refusal lines a probe printed: the exception's properties and message.</summary>
        private static void AssertRefused(List<string> lines, string fake, string library, string exception,
            string found, string says, string needs, string[] entries)
        {
            var report = Report(lines);
            CollectionAssert.Contains(lines, "first: " + exception, report);
            CollectionAssert.Contains(lines, found, report);
            CollectionAssert.Contains(lines, "expected: 1", report);
            // The real path of the fake (the message names the file it loaded).
            var lib = Path.Combine(Environment.GetEnvironmentVariable("XNANO_ABI_FAKES"), fake, library);
            var path = lines.Single(l => l.StartsWith("path: ", StringComparison.Ordinal)).Substring(6);
            Assert.AreEqual(Path.GetFullPath(lib), Path.GetFullPath(path), report);
            var message = lines.Single(l => l.StartsWith("message: ", StringComparison.Ordinal));
            StringAssert.Contains(path, message);
            StringAssert.Contains(says, message);
            StringAssert.Contains(needs, message);
            foreach (var entry in entries)
            {
                CollectionAssert.Contains(lines, entry + ": " + exception, "every entry point refuses: " + report);
            }
        }

        [TestCase("abi999", "found: 999", "has ABI version 999")]
        [TestCase("abinone", "found: none", "has no xnano_abi_version")]
        public void AMismatchedLibraryIsRefused(string fake, string found, string says)
        {
            // A fake libxnano.so, the binding and AbiProbe.exe. A process loads one libxnano only:
            // run the probe apart.
            var lines = RunProbe(fake, "libxnano.so", "AbiProbe.exe");
            AssertRefused(lines, fake, "libxnano.so", "XnanoAbiException", found, says, "needs ABI version 1",
                new[] { "check", "client", "version" });
        }

        [TestCase("simabi999", "found: 999", "has ABI version 999")]
        [TestCase("simabinone", "found: none", "has no xnano_sim_abi_version")]
        public void AMismatchedSimLibraryIsRefused(string fake, string found, string says)
        {
            // A fake libxnano_sim.so beside the real libxnano.so, both assemblies and
            // SimAbiProbe.exe: every simulator entry point refuses with XnanoSimAbiException,
            // while libxnano (its check is its own) still works in the same process.
            var lines = RunProbe(fake, "libxnano_sim.so", "SimAbiProbe.exe");
            AssertRefused(lines, fake, "libxnano_sim.so", "XnanoSimAbiException", found, says,
                "needs libxnano_sim ABI version 1", new[] { "check", "simulator", "config" });
            var message = lines.Single(l => l.StartsWith("message: ", StringComparison.Ordinal));
            StringAssert.Contains("libxnano_sim.so", message);
            StringAssert.Contains("Xnano.Sim " + SimLibrary.BindingVersion, message);
            CollectionAssert.Contains(lines, "xnano: ok", Report(lines));
        }

        [Test]
        public void TheClientShipsWithoutTheSimulator()
        {
            // Xnano.dll, AbiProbe.exe and the real libxnano.so, and nothing else: no Xnano.Sim.dll,
            // no libxnano_sim.so. The client's entry points work; nothing asks for the simulator.
            var lines = RunProbe("nosim", "libxnano.so", "AbiProbe.exe", "alone");
            var report = Report(lines);
            foreach (var entry in new[] { "check", "version", "config", "client", "gamestream" })
            {
                CollectionAssert.Contains(lines, entry + ": ok", report);
            }
            CollectionAssert.Contains(lines, "connect failed: XNANO_ERR_IO", report);
            CollectionAssert.Contains(lines, "sim assembly: absent", report);
            CollectionAssert.Contains(lines, "libxnano_sim: not loaded", report);
            CollectionAssert.Contains(lines, "assembly: Xnano", report);
            CollectionAssert.DoesNotContain(lines, "assembly: Xnano.Sim", report);
        }
    }
}
