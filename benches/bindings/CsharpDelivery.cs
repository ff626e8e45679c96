// Receives a real-time stream through the C# binding (Mono) and reports the
// process's CPU time (user + sys) per second of stream, from the first frame
// to the last. Run by `cargo bench --bench table`.
// usage: mono CsharpDelivery.exe HOST TCP_PORT UDP_PORT FRAMES
using System;
using System.Diagnostics;
using System.Threading;
using Xnano;

static class CsharpDelivery
{
    static int Main(string[] args)
    {
        string host = args[0];
        ushort tcp = ushort.Parse(args[1]), udp = ushort.Parse(args[2]);
        int frames = int.Parse(args[3]);
        object gate = new object();
        int n = 0;
        long bytes = 0;
        double t0 = 0, c0 = 0, t1 = 0, c1 = 0;
        var wall = Stopwatch.StartNew();
        double last = 0;
        Func<double> cpu = () => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        using (var c = new Client())
        {
            c.VideoFrameReceived += (sender, f) =>
            {
                double now = wall.Elapsed.TotalSeconds;
                lock (gate)
                {
                    if (n == 0) { t0 = now; c0 = cpu(); }
                    n++;
                    bytes += f.Data.Length;
                    last = now;
                    if (n == frames) { t1 = now; c1 = cpu(); }
                }
            };
            c.ConnectNano(host, tcp, udp);
            while (true)
            {
                Thread.Sleep(50);
                lock (gate)
                {
                    if (n >= frames || (n > 0 && wall.Elapsed.TotalSeconds - last > 2.0)
                        || (n == 0 && wall.Elapsed.TotalSeconds > 20)) break;
                }
            }
        }
        lock (gate)
        {
            if (n < frames) { t1 = last; c1 = cpu(); }
            Console.WriteLine("{{\"frames\": {0}, \"bytes\": {1}, \"wall_s\": {2}, \"cpu_s\": {3}}}",
                n, bytes, Math.Max(t1 - t0, 1e-9).ToString(System.Globalization.CultureInfo.InvariantCulture),
                (c1 - c0).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return 0;
    }
}
