"""QEMU for the kiosk test: the command line, QMP (keys, screendumps) and the guest agent
(commands inside the guest). Only the Python standard library."""

import base64
import json
import os
import shutil
import socket
import subprocess
import time


class Machine:
    """One boot of the guest image. The image is opened with snapshot=on: every boot starts
    from the same clean disk."""

    def __init__(self, arch, image_dir, mode, work, extra_append=""):
        self.arch = arch
        self.image_dir = image_dir
        self.mode = mode
        self.work = work
        self.extra_append = extra_append
        self.qmp_path = os.path.join(work, "qmp.sock")
        self.qga_path = os.path.join(work, "qga.sock")
        self.serial_log = os.path.join(work, "serial.log")
        self.proc = None
        self.qmp = None
        self.qga = None
        self.started_at = None

    def command(self):
        w, h = self.mode
        img = lambda name: os.path.join(self.image_dir, name)  # noqa: E731
        append = "root=/dev/vda rw quiet loglevel=3 " + self.extra_append
        if self.arch == "amd64":
            cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg,thread=multi",
                   "-cpu", "max"]
            # The text console on the TV too, as on a box (the last one is /dev/console).
            append = "console=tty0 console=ttyS0,115200 " + append
        else:
            cmd = ["qemu-system-aarch64", "-machine", "virt", "-accel", "tcg,thread=multi",
                   "-cpu", "max"]
            append = "console=tty0 console=ttyAMA0,115200 " + append
        cmd += [
            "-smp", "2", "-m", "1024", "-nodefaults", "-no-user-config", "-display", "none",
            "-kernel", img("vmlinuz"), "-initrd", img("initrd.img"), "-append", append.strip(),
            "-drive", f"file={img('rootfs.img')},if=none,id=disk,format=raw,snapshot=on",
            "-device", "virtio-blk-pci,drive=disk",
            # The TV: a real DRM/KMS device in the guest (virtio_gpu), the mode as EDID.
            "-device", f"virtio-gpu-pci,xres={w},yres={h},edid=on",
            "-device", "virtio-keyboard-pci",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=qga0,path={self.qga_path},server=on,wait=off",
            "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
            "-serial", f"file:{self.serial_log}",
            "-nic", "none",
        ]
        return cmd

    def start(self):
        for p in (self.qmp_path, self.qga_path):
            if os.path.exists(p):
                os.unlink(p)
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.work, "qemu.out"), "w"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.qmp_path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("QEMU did not start: " + open(
                    os.path.join(self.work, "qemu.out")).read()[-2000:])
            time.sleep(0.05)
        self.qmp = Qmp(self.qmp_path)
        self.qga = Agent(self.qga_path)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.qmp.call("quit")
            except Exception:  # noqa: BLE001 - QEMU may already be gone
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # -- display and keys -------------------------------------------------------------------
    def screendump(self, path):
        """The guest's scanout as PPM (what the TV shows)."""
        self.qmp.call("screendump", filename=path)
        return path

    def send_keys(self, *qcodes):
        """One key press per qcode (e.g. "ret", "esc", "i"), through the virtio keyboard."""
        for q in qcodes:
            self.qmp.call("send-key", keys=[{"type": "qcode", "data": q}], **{"hold-time": 60})
            time.sleep(0.15)


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")
        json.loads(self.file.readline())  # greeting
        self.call("qmp_capabilities")

    def call(self, execute, **arguments):
        msg = {"execute": execute}
        if arguments:
            msg["arguments"] = arguments
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(f"QMP {execute}: {reply['error']}")
            return reply.get("return")


class Agent:
    """The QEMU guest agent (qemu-guest-agent in the guest), over virtio-serial."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.file = None
        self.sync_id = 0

    def _connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)
        self.file = self.sock.makefile("rwb")

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.sock is None:
                    self._connect()
                self.sync_id += 1
                self.sock.settimeout(2)
                # A 0xff byte makes the agent drop any half-read request (guest-sync-delimited).
                self.file.write(b"\xff")
                self._send({"execute": "guest-sync-delimited", "arguments": {"id": self.sync_id}})
                while True:
                    raw = self.file.readline()
                    if not raw:
                        raise OSError("agent closed")
                    raw = raw.lstrip(b"\xff")
                    if not raw.strip():
                        continue
                    reply = json.loads(raw)
                    if reply.get("return") == self.sync_id:
                        self.sock.settimeout(None)
                        return True
            except (OSError, ValueError):
                if self.sock is not None:
                    self.sock.close()
                self.sock = None
                time.sleep(0.5)
        return False

    def _send(self, msg):
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()

    def call(self, execute, **arguments):
        msg = {"execute": execute}
        if arguments:
            msg["arguments"] = arguments
        self._send(msg)
        while True:
            raw = self.file.readline()
            if not raw:
                raise RuntimeError("guest agent closed the connection")
            raw = raw.lstrip(b"\xff").strip()
            if not raw:
                continue
            reply = json.loads(raw)
            if "error" in reply:
                raise RuntimeError(f"guest agent {execute}: {reply['error']}")
            return reply.get("return")

    def run(self, script, timeout=60):
        """Runs `sh -c script` in the guest; returns (exit code, stdout, stderr)."""
        pid = self.call("guest-exec", path="/bin/sh", arg=["-c", script],
                        **{"capture-output": True})["pid"]
        deadline = time.monotonic() + timeout
        while True:
            st = self.call("guest-exec-status", pid=pid)
            if st.get("exited"):
                out = base64.b64decode(st.get("out-data", "")).decode(errors="replace")
                err = base64.b64decode(st.get("err-data", "")).decode(errors="replace")
                return st.get("exitcode", -1), out, err
            if time.monotonic() > deadline:
                raise TimeoutError(f"guest command timed out: {script}")
            time.sleep(0.1)

    def read_file(self, path):
        handle = self.call("guest-file-open", path=path, mode="r")
        data = b""
        try:
            while True:
                chunk = self.call("guest-file-read", handle=handle, count=1 << 20)
                data += base64.b64decode(chunk.get("buf-b64", ""))
                if chunk.get("eof"):
                    return data
        finally:
            self.call("guest-file-close", handle=handle)


def qemu_binary(arch):
    return shutil.which("qemu-system-x86_64" if arch == "amd64" else "qemu-system-aarch64")
