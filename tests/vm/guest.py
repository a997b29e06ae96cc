#!/usr/bin/python3
"""Helper inside the QEMU test guest (installed as /usr/local/bin/vm-guest).

  vm-guest remote            a uinput "TV remote" (KEY_BACK, KEY_OK, arrows, digits) that
                             presses the key codes written, one per line, to /run/vm-remote
  vm-guest press CODE...     press and release these evdev codes on that remote
  vm-guest sim METHOD PATH   an HTTP request to the app's embedded simulator
  vm-guest usage SECS        the app's CPU time over SECS and its RSS, as JSON

The simulator is mitid-flex-sim beside the kiosk (vm-sim.service) on 127.0.0.1:8787.
"""

import fcntl
import json
import os
import stat
import struct
import subprocess
import sys
import time
import urllib.request

FIFO = "/run/vm-remote"
UNIT = "mitid-flex-tv.service"

# linux/input-event-codes.h
EV_SYN, EV_KEY, SYN_REPORT = 0, 1, 0
KEY_BACK, KEY_OK = 158, 352
REMOTE_KEYS = [KEY_BACK, KEY_OK, 103, 105, 106, 108, 28, 1] + list(range(2, 12))

# linux/uinput.h: _IOW('U', 100, int), _IOW('U', 101, int), _IOW('U', 3, struct uinput_setup),
# _IO('U', 1). struct uinput_setup is struct input_id (4 x u16), char name[80], u32 ff_effects_max.
UI_SET_EVBIT = 0x40045564
UI_SET_KEYBIT = 0x40045565
UI_DEV_SETUP = 0x405C5503
UI_DEV_CREATE = 0x5501
BUS_USB = 0x03


def event(fd, etype, code, value):
    # struct input_event: struct timeval (two longs), u16 type, u16 code, s32 value.
    now = time.time()
    os.write(fd, struct.pack("llHHi", int(now), int((now % 1) * 1e6), etype, code, value))


def remote():
    fd = os.open("/dev/uinput", os.O_WRONLY | os.O_NONBLOCK)
    fcntl.ioctl(fd, UI_SET_EVBIT, EV_KEY)
    for code in REMOTE_KEYS:
        fcntl.ioctl(fd, UI_SET_KEYBIT, code)
    setup = struct.pack("HHHH80sI", BUS_USB, 0x1234, 0x5678, 1, b"VM TV remote", 0)
    fcntl.ioctl(fd, UI_DEV_SETUP, setup)
    fcntl.ioctl(fd, UI_DEV_CREATE)
    if os.path.exists(FIFO):
        os.unlink(FIFO)
    os.mkfifo(FIFO, 0o600)
    print("remote ready", flush=True)
    while True:
        with open(FIFO) as f:
            for line in f:
                for word in line.split():
                    code = int(word)
                    for value in (1, 0):
                        event(fd, EV_KEY, code, value)
                        event(fd, EV_SYN, SYN_REPORT, 0)
                        time.sleep(0.05)
                    print(f"pressed {code}", flush=True)


def press(codes):
    if not (os.path.exists(FIFO) and stat.S_ISFIFO(os.stat(FIFO).st_mode)):
        sys.exit("the remote is not running (vm-guest remote)")
    with open(FIFO, "w") as f:
        f.write(" ".join(str(int(c)) for c in codes) + "\n")


def main_pid():
    out = subprocess.run(
        ["systemctl", "show", "-P", "MainPID", UNIT], capture_output=True, text=True, check=True
    ).stdout.strip()
    pid = int(out or 0)
    if pid <= 0:
        sys.exit(f"{UNIT} has no main process")
    return pid


SIM = "http://127.0.0.1:8787"


def sim(method, path):
    req = urllib.request.Request(SIM + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=10) as resp:
        sys.stdout.write(resp.read().decode())


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of proc(5); fields[0] here is field 3.
    return int(fields[11]) + int(fields[12])


def usage(secs):
    pid = main_pid()
    hz = os.sysconf("SC_CLK_TCK")
    t0, c0 = time.monotonic(), cpu_ticks(pid)
    time.sleep(secs)
    t1, c1 = time.monotonic(), cpu_ticks(pid)
    rss_kib = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kib = int(line.split()[1])
    print(json.dumps({
        "pid": pid,
        "seconds": round(t1 - t0, 2),
        "cpu_seconds": (c1 - c0) / hz,
        "cpu_percent_of_one_core": round(100.0 * (c1 - c0) / hz / (t1 - t0), 2),
        "rss_kib": rss_kib,
    }))


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "remote":
        remote()
    elif cmd == "press":
        press(args)
    elif cmd == "sim" and len(args) == 2:
        sim(args[0], args[1])
    elif cmd == "usage" and len(args) == 1:
        usage(float(args[0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
