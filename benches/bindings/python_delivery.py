"""Receives a real-time stream through the Python binding and reports the
process's CPU time (user + sys, getrusage) per second of stream, from the
first frame to the last. Run by `cargo bench --bench table`.

usage: python_delivery.py MODE HOST TCP_PORT UDP_PORT FRAMES
MODE: callback (VideoFrame, bytes copied), view (VideoFrameView, a
memoryview valid during the callback, read in place) or pull
(next_event from the library's queue)."""

import json
import resource
import sys
import threading
import time

import xnano


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    mode, host, tcp, udp, frames = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    lock = threading.Lock()
    st = {"n": 0, "bytes": 0, "t0": 0.0, "c0": 0.0, "t1": 0.0, "c1": 0.0, "last": time.monotonic()}

    def got(length: int) -> None:
        now = time.monotonic()
        with lock:
            if st["n"] == 0:
                st["t0"], st["c0"] = now, cpu()
            st["n"] += 1
            st["bytes"] += length
            st["last"] = now
            if st["n"] == frames:
                st["t1"], st["c1"] = now, cpu()

    def on_video(f: xnano.VideoFrame) -> None:
        got(len(f.data))

    def on_view(v: xnano.VideoFrameView) -> None:
        # Touch the bytes in place (as a decoder given the buffer would).
        _ = v.data[-1]
        got(v.data.nbytes)

    if mode == "pull":
        c = xnano.Client.connect_nano(host, tcp, udp, xnano.ClientConfig(event_queue_capacity=1024))
        with c:
            while st["n"] < frames:
                e = c.next_event(timeout=2.0)
                if e is None:
                    break
                if isinstance(e, xnano.VideoFrame):
                    got(len(e.data))
    else:
        kw = {"on_video": on_video} if mode == "callback" else {"on_video_view": on_view}
        with xnano.Client.connect_nano(host, tcp, udp, **kw):
            while True:
                time.sleep(0.05)
                with lock:
                    if st["n"] >= frames or time.monotonic() - st["last"] > 2.0:
                        break
    with lock:
        if st["n"] < frames:
            st["t1"], st["c1"] = st["last"], cpu()
        wall = max(st["t1"] - st["t0"], 1e-9)
        print(json.dumps({"frames": st["n"], "bytes": st["bytes"], "wall_s": wall,
                          "cpu_s": st["c1"] - st["c0"]}))


if __name__ == "__main__":
    main()
