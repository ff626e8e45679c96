// A tiny program that AbiTests runs in a separate process, with LD_LIBRARY_PATH pointing at a
// fake libxnano.so (scripts/test-csharp.sh compiles one whose xnano_abi_version returns 999
// and one without the function): a process can load only one libxnano. It prints what the
// binding did on first use, one "key: value" line each; exit 0 when every entry point refused.
using System;
using Xnano;

internal static class AbiProbe
{
    private static int Main()
    {
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
