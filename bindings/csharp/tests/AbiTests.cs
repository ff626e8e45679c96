// The ABI check at load (ABI 1): the real library passes; a library of another ABI, or one
// without xnano_abi_version, is refused with XnanoAbiException before anything else is called.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Xnano;
using Xnano.Native;

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

        [TestCase("abi999", "found: 999", "has ABI version 999")]
        [TestCase("abinone", "found: none", "has no xnano_abi_version")]
        public void AMismatchedLibraryIsRefused(string fake, string found, string says)
        {
            // XNANO_ABI_FAKES (scripts/test-csharp.sh): directories with a fake libxnano.so, the
            // binding and AbiProbe.exe. A process loads one libxnano only: run the probe apart.
            var root = Environment.GetEnvironmentVariable("XNANO_ABI_FAKES");
            if (string.IsNullOrEmpty(root))
            {
                Assert.Ignore("XNANO_ABI_FAKES not set");
            }
            var dir = Path.Combine(root, fake);
            var lib = Path.Combine(dir, "libxnano.so");
            Assert.IsTrue(File.Exists(lib), lib);
            var mono = Environment.GetEnvironmentVariable("XNANO_MONO");
            var psi = new ProcessStartInfo(string.IsNullOrEmpty(mono) ? "mono" : mono, "AbiProbe.exe")
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
            CollectionAssert.Contains(lines, "first: XnanoAbiException", report);
            CollectionAssert.Contains(lines, found, report);
            CollectionAssert.Contains(lines, "expected: 1", report);
            // The real path of the fake (the message names the file it loaded).
            var path = lines.Single(l => l.StartsWith("path: ", StringComparison.Ordinal)).Substring(6);
            Assert.AreEqual(Path.GetFullPath(lib), Path.GetFullPath(path), report);
            var message = lines.Single(l => l.StartsWith("message: ", StringComparison.Ordinal));
            StringAssert.Contains(path, message);
            StringAssert.Contains(says, message);
            StringAssert.Contains("needs ABI version 1", message);
            foreach (var entry in new[] { "check", "client", "version" })
            {
                CollectionAssert.Contains(lines, entry + ": XnanoAbiException", "every entry point refuses: " + report);
            }
        }
    }
}
