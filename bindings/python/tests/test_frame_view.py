"""Zero-copy frame access: ``on_video_view`` hands each frame as a
`VideoFrameView` whose `data` is a read-only memoryview of the library's
buffer, valid during the callback; `readinto` copies into a buffer the
caller owns."""

import threading

import pytest

import xnano
from conftest import wait_for


def test_views_carry_every_frame_and_die_with_the_callback(sim):
    lock = threading.Lock()
    seen = []       # (frame_id, keyframe, length, bytes via the view)
    kept = []       # views kept past their callback (wrong; must fail cleanly)
    checks = []     # per frame: readinto and to_frame agree with the view
    buf = bytearray(4 << 20)  # a buffer the caller owns, reused

    def on_view(v):
        assert isinstance(v.data, memoryview)
        assert v.data.readonly
        n = v.readinto(buf)
        copy = bytes(v.data)
        ok = (n == len(v) == len(copy) > 0 and bytes(buf[:n]) == copy
              and v.to_frame().data == copy and v.to_frame().frame_id == v.frame_id)
        with lock:
            seen.append((v.frame_id, v.keyframe, len(v), copy))
            checks.append(ok)
            if len(kept) < 3:
                kept.append(v)

    with xnano.Client.connect_nano(*sim.nano_address, on_video_view=on_view) as c:
        assert wait_for(lambda: len(seen) >= 30)
        c.stop()
        st = c.stats()
    with lock:
        assert all(checks)
        ids = [s[0] for s in seen]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert seen[0][1], "the first frame delivered is a keyframe"
        # Every byte the library delivered went through the views.
        assert sum(s[2] for s in seen) == st.video_bytes
        assert len(seen) == st.frames_delivered
    # After the callback the view is released, not a dangling pointer.
    for v in kept:
        with pytest.raises(ValueError):
            bytes(v.data)
    with pytest.raises(ValueError):
        kept[0].readinto(bytearray(len(seen[0][3])))


def test_readinto_refuses_small_or_read_only_buffers(sim):
    errors = []
    done = threading.Event()

    def on_view(v):
        if done.is_set():
            return
        for bad in (bytearray(1), bytes(len(v))):
            try:
                v.readinto(bad)
                errors.append(f"accepted {type(bad).__name__} of {len(bad)}")
            except (ValueError, TypeError):
                pass
        done.set()

    with xnano.Client.connect_nano(*sim.nano_address, on_video_view=on_view):
        assert done.wait(20)
    assert errors == []


def test_on_video_and_on_video_view_exclude_each_other():
    with pytest.raises(TypeError):
        xnano.Client(on_video=lambda f: None, on_video_view=lambda v: None)
