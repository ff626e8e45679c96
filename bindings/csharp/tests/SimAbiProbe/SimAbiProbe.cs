// A tiny program that AbiTests runs in a separate process, with LD_LIBRARY_PATH pointing at a
// fake libxnano_sim.so beside the real libxnano.so (scripts/test-csharp.sh compiles a fake
// whose xnano_sim_abi_version returns 999 and one without the function). It prints what
// Xnano.Sim did on first use, one "key: value" line each, and that libxnano, checked on its
// own, still works; exit 0 when every simulator entry point refused and the client worked.
using System;
using Xnano;
using Xnano.Sim;

internal static class SimAbiProbe
{
    private static int Main()
    {
        try
        {
            // An ordinary first use, not the explicit check.
            var config = new SimConfig();
            Console.WriteLine("first: accepted " + config.Fps);
            return 2;
        }
        catch (XnanoSimAbiException e)
        {
            Console.WriteLine("first: XnanoSimAbiException");
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
        rc |= Refused("check", () => SimLibrary.CheckAbi());
        rc |= Refused("simulator", () => new Simulator().Dispose());
        rc |= Refused("config", () => new SimConfig());
        try
        {
            Library.CheckAbi();
            new Client().Dispose();
            Console.WriteLine("xnano: ok");
        }
        catch (Exception e)
        {
            Console.WriteLine("xnano: " + e.GetType().FullName + " " + e.Message.Replace('\n', ' '));
            rc |= 16;
        }
        return rc;
    }

    private static int Refused(string what, Action a)
    {
        try
        {
            a();
            Console.WriteLine(what + ": accepted");
            return 4;
        }
        catch (XnanoSimAbiException)
        {
            Console.WriteLine(what + ": XnanoSimAbiException");
            return 0;
        }
        catch (Exception e)
        {
            Console.WriteLine(what + ": " + e.GetType().FullName);
            return 8;
        }
    }
}
