// A tiny program that AbiTests runs in a separate process, with LD_LIBRARY_PATH pointing at a
// fake libxnano.so (scripts/test-csharp.sh compiles one whose xnano_abi_version returns 999
// and one without the function): a process can load only one libxnano. It prints what the
// binding did on first use, one "key: value" line each; exit 0 when every entry point refused.
// `AbiProbe.exe alone` instead uses the client as an application ships it (Xnano.dll and the
// real libxnano, no Xnano.Sim.dll, no libxnano_sim): exit 0 when everything worked.
using System;
using System.IO;
using Xnano;

internal static class AbiProbe
{
    private static int Main(string[] args)
    {
        if (args.Length == 1 && args[0] == "alone")
        {
            return Alone();
        }
        try
        {
            // An ordinary first use, not the explicit check.
            var config = new ClientConfig();
            Console.WriteLine("first: accepted " + config.EventQueueCapacity);
            return 2;
        }
        catch (XnanoAbiException e)
        {
            Console.WriteLine("first: XnanoAbiException");
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
        rc |= Refused("check", () => Library.CheckAbi());
        rc |= Refused("client", () => new Client().Dispose());
        rc |= Refused("version", () => Console.WriteLine(Library.Version));
        return rc;
    }

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

    private static int Refused(string what, Action a)
    {
        try
        {
            a();
            Console.WriteLine(what + ": accepted");
            return 4;
        }
        catch (XnanoAbiException)
        {
            Console.WriteLine(what + ": XnanoAbiException");
            return 0;
        }
        catch (Exception e)
        {
            Console.WriteLine(what + ": " + e.GetType().FullName);
            return 8;
        }
    }
}
