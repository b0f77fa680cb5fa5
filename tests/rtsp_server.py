"""An RTSP server on 127.0.0.1 for tests: serves a folder of JPEG frames, looping, as Motion JPEG over RTP.

Run by the SYSTEM python3 (GStreamer's gst-rtsp-server through PyGObject, from Debian's packages), not the
project's venv:  /usr/bin/python3 tests/rtsp_server.py FRAMES_DIR PORT [FPS]
FRAMES_DIR holds 000.jpg, 001.jpg, ... ; the stream is rtsp://127.0.0.1:PORT/test. It prints "ready" once the
server listens and runs until SIGTERM/SIGINT, or until its parent process is gone. Each client gets its own pipeline,
starting at frame 0. Nothing is transcoded: the JPEG files go out as they are (RTP/JPEG, RFC 2435), so no encoder
is needed (multifilesrc, rtpjpegpay: plugins-good; jpegparse: plugins-bad; videorate: plugins-base).
"""

from __future__ import annotations

import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def launch_line(frames_dir: str, fps: int) -> str:
    # multifilesrc loops over the files and stamps nothing (jpegparse neither): videorate stamps the buffers from
    # the framerate in the caps, and the server's sinks sync on those stamps, so the frames go out at `fps` as a
    # camera sends them (without it they all go out at once, thousands a second).
    return (f'( multifilesrc location="{frames_dir}/%03d.jpg" index=0 loop=true '
            f'caps="image/jpeg,framerate={fps}/1" ! jpegparse ! videorate ! rtpjpegpay name=pay0 pt=26 )')


def main() -> None:
    frames_dir, port = sys.argv[1], int(sys.argv[2])
    fps = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(frames_dir, fps))
    factory.set_shared(False)
    server.get_mount_points().add_factory("/test", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        sys.exit(2)
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, loop.quit)
    parent = os.getppid()

    def orphaned() -> bool:  # the test run died without stopping us: do not outlive it
        if os.getppid() != parent:
            loop.quit()
            return False
        return True

    GLib.timeout_add_seconds(1, orphaned)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
