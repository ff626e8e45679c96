import os
import sys
import time
from pathlib import Path

import pytest

import xnano
from xnano.sim import SimAudio, SimConsole, SimVideo

REPO = Path(__file__).resolve().parents[3]


def wait_for(cond, timeout=20.0, step=0.02, tick=None):
    """Polls `cond` until true or `timeout`; calls `tick()` each round."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if tick:
            tick()
        if cond():
            return True
        time.sleep(step)
    return cond()


@pytest.fixture
def sim():
    """A cheap simulated console: synthetic 320x240 video, PCM audio."""
    with SimConsole(
        width=320,
        height=240,
        fps=60,
        keyframe_interval=30,
        video_source=SimVideo.SYNTHETIC,
        audio_source=SimAudio.PCM,
    ) as s:
        yield s
