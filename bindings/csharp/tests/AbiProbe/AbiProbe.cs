// A tiny program that AbiTests runs in a separate process, with LD_LIBRARY_PATH pointing at a
// fake native library, one probe for either: compiled as it is, AbiProbe.exe (Xnano.dll only)
// meets a fake libxnano.so (scripts/test-csharp.sh compiles one whose xnano_abi_version returns
// 999 and one without the function): a process can load only one libxnano. Compiled with
// -define:XNANO_SIM, SimAbiProbe.exe (Xnano.dll and Xnano.Sim.dll) meets a fake libxnano_sim.so
// beside the real libxnano.so (xnano_sim_abi_version 999, or none), and also checks that
// libxnano, checked on its own, still works. It prints what the binding did on first use, one
// "key: value" line each; exit 0 when every entry point of the faked library refused.
// `AbiProbe.exe alone` instead uses the client as an application ships it (Xnano.dll and the
// real libxnano, no Xnano.Sim.dll, no libxnano_sim): exit 0 when everything worked.
using System;
using System.IO;
using Xnano;
#if XNANO_SIM
using Xnano.Sim;
#endif

internal static class AbiProbe
{
    private static int Main(string[] args)
    {
#if XNANO_SIM
        // An ordinary first use, not the explicit check.
        var rc = Probe<XnanoSimAbiException>(() => "accepted " + new SimConfig().Fps,
            new[] { "check", "simulator", "config" },
            () => SimLibrary.CheckAbi(), () => new Simulator().Dispose(), () => new SimConfig());
        rc |= Works("xnano", () =>
        {
            Library.CheckAbi();
            new Client().Dispose();
        });
        return rc;
#else
        if (args.Length == 1 && args[0] == "alone")
        {
            return Alone();
        }
        // An ordinary first use, not the explicit check.
        return Probe<XnanoAbiException>(() => "accepted " + new ClientConfig().EventQueueCapacity,
            new[] { "check", "client", "version" },
            () => Library.CheckAbi(), () => new Client().Dispose(), () => Console.WriteLine(Library.Version));
#endif
    }

    /// <summary>The first use (which must throw <typeparamref name="TAbi"/>; its properties are
    /// printed), then each of the entry points <paramref name="entries"/>, called
    /// <paramref name="names"/>, which must refuse as well.</summary>
    private static int Probe<TAbi>(Func<string> first, string[] names, params Action[] entries) where TAbi : NativeAbiException
    {
        try
        {
            Console.WriteLine("first: " + first());
            return 2;
        }
        catch (TAbi e)
        {
            Console.WriteLine("first: " + typeof(TAbi).Name);
            Console.WriteLine("found: " + (e.Found.HasValue ? e.Found.Value.ToString() : "none"));
            Console.WriteLine("expected: " + e.Expected);
            Console.WriteLine("path: " + e.LibraryPath);
            Console.WriteLine("message: " + e.Message);
        }
        catch (Exception e)
        {
            Console.WriteLine("first: " + e.GetType().FullName);
            Console.WriteLine("message: " + e.ToString().Replace('\n', ' '));
            return 3;
        }
        var rc = 0;
        for (var i = 0; i < entries.Length; i++)
        {
            rc |= Refused<TAbi>(names[i], entries[i]);
        }
        return rc;
    }

#if !XNANO_SIM
    private static int Alone()
    {
        var rc = 0;
        rc |= Works("check", () => Library.CheckAbi());
        rc |= Works("version", () => Console.WriteLine("version is " + Library.Version));
        rc |= Works("config", () => Console.WriteLine("queue " + new ClientConfig().EventQueueCapacity));
        rc |= Works("client", () =>
        {
            using (var c = new Client())
            {
                Console.WriteLine("state " + c.State);
                // Nobody listens on that port any more: the connect fails, as it should.
                var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
                l.Start();
                var port = (ushort)((System.Net.IPEndPoint)l.LocalEndpoint).Port;
                l.Stop();
                try
                {
                    c.ConnectNano("127.0.0.1", port, port);
                }
                catch (XnanoException e)
                {
                    Console.WriteLine("connect failed: " + e.CodeName);
                }
            }
        });
        rc |= Works("gamestream", () => new GameStreamConfig().Dispose());
        var dir = AppDomain.CurrentDomain.BaseDirectory;
        Console.WriteLine("sim assembly: " + (File.Exists(Path.Combine(dir, "Xnano.Sim.dll")) ? "present" : "absent"));
        Console.WriteLine("libxnano_sim: " + (File.ReadAllText("/proc/self/maps").Contains("libxnano_sim") ? "loaded" : "not loaded"));
        foreach (var a in AppDomain.CurrentDomain.GetAssemblies())
        {
            Console.WriteLine("assembly: " + a.GetName().Name);
        }
        return rc;
    }
#endif

    private static int Works(string what, Action a)
    {
        try
        {
            a();
            Console.WriteLine(what + ": ok");
            return 0;
        }
        catch (Exception e)
        {
            Console.WriteLine(what + ": " + e.GetType().FullName + " " + e.Message.Replace('\n', ' '));
            return 16;
        }
    }

    private static int Refused<TAbi>(string what, Action a) where TAbi : NativeAbiException
    {
        try
        {
            a();
            Console.WriteLine(what + ": accepted");
            return 4;
        }
        catch (TAbi)
        {
            Console.WriteLine(what + ": " + typeof(TAbi).Name);
            return 0;
        }
        catch (Exception e)
        {
            Console.WriteLine(what + ": " + e.GetType().FullName);
            return 8;
        }
    }
}
