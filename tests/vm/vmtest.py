#!/usr/bin/env python3
"""The kiosk .deb on a real DRM/KMS device: one boot of the QEMU guest at one display mode,
driven from outside as a viewer (keys), a remote (/dev/uinput), the phone (the simulator)
and an operator (systemd, the config file) would. Prints PASS/FAIL per check and the
measurements; exits 0 only when every check passed. Run through tests/vm/run.sh."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import images
from qemu import Machine

UNIT = "mitid-flex-tv.service"
PKG = "mitid-flex-tv"
KEY_BACK, KEY_OK = 158, 352
# The screens the journey shows, rendered by the app itself at 1920x1080 as references.
SCREENS = ["start", "identify", "waiting", "signed-in", "config-error"]
# Signature distances (see images.py). Measured: the same screen at another mode, scaled,
# stays below about 4; different screens are 15 or more apart.
MATCH = 7.0
# The focus ring (Theme.focus-ring): on Start it surrounds "Log på med MitID". Where it is
# tells whether the UI was scaled to the mode: min(w / 1920, h / 1080) times where the
# 1920x1080 render has it.
FOCUS_RING = "#8fc0ff"
USER_ID = "ileya"  # an identity of the embedded simulator


class Failed(Exception):
    pass


class Run:
    def __init__(self, args):
        self.args = args
        self.mode = tuple(int(x) for x in args.mode.split("x"))
        self.out = os.path.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.dumps = tempfile.mkdtemp(prefix="vm-dumps-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        self.results = {"mode": args.mode, "arch": args.arch, "checks": [], "measurements": {}}
        self.failures = 0
        self.refs = {}
        self.n = 0
        self.vm = Machine(args.arch, args.image_dir, self.mode, self.out)

    # -- reporting ----------------------------------------------------------------------------
    def check(self, name, ok, detail=""):
        word = "PASS" if ok else "FAIL"
        print(f"{word}  {name}" + (f"  ({detail})" if detail else ""), flush=True)
        self.results["checks"].append({"check": name, "pass": bool(ok), "detail": detail})
        if not ok:
            self.failures += 1
        return ok

    def measure(self, name, value, unit):
        print(f"MEASURE  {name}: {value} {unit}", flush=True)
        self.results["measurements"][name] = {"value": value, "unit": unit}

    def note(self, text):
        print(f"        {text}", flush=True)

    # -- the guest ----------------------------------------------------------------------------
    def sh(self, script, timeout=60):
        return self.vm.qga.run(script, timeout)

    def out_of(self, script, timeout=60):
        code, out, err = self.sh(script, timeout)
        if code != 0:
            raise Failed(f"guest: {script!r} exited {code}: {err.strip()[-300:]}")
        return out

    def service(self):
        props = "ActiveState,SubState,MainPID,NRestarts,Result,User"
        out = self.out_of(f"systemctl show -p {props} {UNIT}")
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def sim(self, method, path):
        code, out, err = self.sh(f"vm-guest sim {method} {path}")
        if code != 0:
            raise Failed(f"simulator {method} {path}: {err.strip()[-300:]}")
        return json.loads(out) if out.strip() else None

    def requests(self):
        return self.sim("GET", "/_sim/requests") or []

    # -- the screen ---------------------------------------------------------------------------
    def dump(self):
        self.n += 1
        path = os.path.join(self.dumps, f"d{self.n % 4}.ppm")
        self.vm.screendump(path)
        return path

    def look(self):
        """(signature, (w, h), digest) of what the TV shows now."""
        path = self.dump()
        return images.signature(path), images.size(path), images.digest(path)

    def which(self, sig):
        return images.classify(sig, self.refs)

    def save(self, name):
        path = self.dump()
        images.to_png(path, os.path.join(self.out, f"{name}.png"))
        return path

    def wait_screen(self, want, timeout):
        """Polls screendumps until the TV shows `want`; returns (ok, detail)."""
        deadline = time.monotonic() + timeout
        best = None
        while True:
            sig, size, _ = self.look()
            name, d, _ = self.which(sig)
            if size == self.mode and name == want and d < MATCH:
                return True, f"{want} at {size[0]}x{size[1]}, distance {d:.1f}"
            best = (name, d, size)
            if time.monotonic() > deadline:
                return False, f"shows {best[0]} at {best[2][0]}x{best[2][1]}, distance {best[1]:.1f} (want {want} < {MATCH})"
            time.sleep(0.3)

    def wait(self, what, timeout, probe, interval=0.5):
        deadline = time.monotonic() + timeout
        while True:
            got = probe()
            if got:
                return got
            if time.monotonic() > deadline:
                return None
            time.sleep(interval)

    # -- the run ------------------------------------------------------------------------------
    def boot(self):
        """Starts QEMU; records screendumps until the guest answers and the service runs."""
        self.vm.start()
        frames = []  # (seconds since QEMU start, signature, size)
        ready = False
        deadline = time.monotonic() + self.args.boot_timeout
        while time.monotonic() < deadline:
            try:
                path = self.dump()
                frames.append((time.monotonic() - self.vm.started_at, images.signature(path), images.size(path)))
            except Exception:  # noqa: BLE001 - no scanout yet early in the boot
                pass
            if not ready:
                ready = self.vm.qga.wait_ready(0.5)
                if ready:
                    deadline = min(deadline, time.monotonic() + 90)
            if ready:
                st = self.service()
                # Up: the service runs and the screen shows something still and not blank.
                if (st.get("ActiveState") == "active" and len(frames) >= 3
                        and frames[-1][1] == frames[-2][1] and images.spread(frames[-1][1]) > 64):
                    break
            time.sleep(0.2)
        if not ready:
            raise Failed(f"the guest agent did not answer within {self.args.boot_timeout} s")
        return frames

    def render_refs(self):
        # The kiosk binary carries no `render` (no PNG encoder, to keep it small), so the
        # references come from the desktop build of the same commit: the same Slint software
        # renderer and the same embedded fonts draw the same pixels.
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        exe = os.environ.get("RENDER_BIN") or os.path.join(root, "target", "debug", PKG)
        if not os.access(exe, os.X_OK):
            raise Failed(f"no desktop build to render references with: {exe} (set RENDER_BIN)")
        with tempfile.TemporaryDirectory() as home:
            for s in SCREENS:
                png = os.path.join(self.out, f"ref-{s}.png")
                subprocess.run([exe, "render", "--screen", s, "--size", "1920x1080", "--out", png],
                               check=True, timeout=120, env={**os.environ, "HOME": home},
                               stdout=subprocess.DEVNULL)
                self.refs[s] = images.signature(png)
        names = list(self.refs)
        gaps = [images.distance(self.refs[a], self.refs[b]) for i, a in enumerate(names) for b in names[i + 1:]]
        self.note(f"references rendered by the desktop build; closest two screens are {min(gaps):.1f} apart")

    def run(self):
        w, h = self.mode
        print(f"== kiosk in a QEMU guest ({self.args.arch}, virtio-gpu {w}x{h}, TCG)", flush=True)
        try:
            frames = self.boot()
            self.render_refs()
            first = next((t for t, sig, size in frames
                          if size == self.mode and self.which(sig)[0] == "start" and self.which(sig)[1] < MATCH), None)
            if first is not None:
                self.measure("QEMU start to first kiosk frame (Start)", round(first, 1), "s")
            else:
                self.note("no Start frame among the boot screendumps")
            self.checks()
        except Failed as e:
            self.check("the run completed", False, str(e))
        finally:
            try:
                self.sh(f"journalctl -b --no-pager -o short-monotonic > /tmp/journal.txt", timeout=60)
                with open(os.path.join(self.out, "journal.txt"), "wb") as f:
                    f.write(self.vm.qga.read_file("/tmp/journal.txt"))
            except Exception as e:  # noqa: BLE001 - best effort, for reading failures
                self.note(f"no journal copied: {e}")
            self.vm.stop()
            for name in os.listdir(self.dumps):
                os.unlink(os.path.join(self.dumps, name))
            os.rmdir(self.dumps)
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump(self.results, f, indent=1)
        total = len(self.results["checks"])
        print(f"== {w}x{h}: {total - self.failures} passed, {self.failures} failed", flush=True)
        return self.failures == 0

    def checks(self):
        # 1. the device and the service
        code, _, _ = self.sh("test -c /dev/dri/card0")
        self.check("/dev/dri/card0 exists (virtio_gpu)", code == 0)
        st = self.service()
        pid = st.get("MainPID", "0")
        user = self.out_of(f"ps -o user= -p {pid} || true").strip()
        self.check("the service is active as its own user",
                   st.get("ActiveState") == "active" and user == PKG,
                   f"{st.get('ActiveState')}/{st.get('SubState')}, pid {pid}, user {user or '?'}")
        self.out_of("systemd-run --unit=vm-remote --quiet /usr/local/bin/vm-guest remote && "
                    "for i in $(seq 300); do [ -p /run/vm-remote ] && exit 0; sleep 0.1; done; exit 1")

        # 2. Start, at the mode's size, scaled
        ok, detail = self.wait_screen("start", 30)
        path = self.save("1-start")
        placed, where = self.scaled_like_reference(path, "start")
        self.check(f"Start fills the {self.mode[0]}x{self.mode[1]} screen, scaled like 1920x1080",
                   ok and placed, f"{detail}; {where}")

        # 3. QMP keys: Start -> Identify -> Waiting; key press -> changed screendump
        self.key_latency()
        ok, detail = self.wait_screen("identify", 30)
        self.save("2-identify")
        self.check("QMP key OK on Start -> Identify", ok, detail)
        self.vm.send_keys(*USER_ID, "ret")
        ok, detail = self.wait_screen("waiting", 30)
        pending = self.wait("a pending request", 20, lambda: [r for r in self.requests() if r["status"] == "pending"])
        self.save("3-waiting")
        self.check(f"QMP keys '{USER_ID}' + OK -> Waiting, request pending at the simulator",
                   ok and bool(pending), detail + (f"; {len(pending)} pending" if pending else "; none pending"))
        first_id = pending[-1]["auth_req_id"] if pending else None

        # 4. The remote through /dev/uinput: KEY_BACK cancels, KEY_OK submits
        self.out_of(f"vm-guest press {KEY_BACK}")
        cancelled = first_id and self.wait("the cancel", 20, lambda: [
            r for r in self.requests() if r["auth_req_id"] == first_id and r["cancelled"] and r["cancels"] == 1])
        ok, detail = self.wait_screen("identify", 20)
        self.check("uinput KEY_BACK (158) on Waiting cancels at the simulator, once; back on Identify",
                   bool(cancelled) and ok, detail + ("; cancelled once" if cancelled else "; no cancel seen"))
        self.save("3b-identify-after-back")
        # Typing moves focus to Fortsæt (Continue), so OK submits rather than pressing the
        # focused on-screen key: retype the id's last character, then KEY_OK.
        self.vm.send_keys("backspace", USER_ID[-1])
        before = {r["auth_req_id"] for r in self.requests()}
        self.out_of(f"vm-guest press {KEY_OK}")
        fresh = self.wait("a new request", 20, lambda: [
            r for r in self.requests() if r["auth_req_id"] not in before and r["status"] == "pending"])
        ok, detail = self.wait_screen("waiting", 20)
        who = fresh[-1].get("identity") if fresh else None
        self.check("uinput KEY_OK (352) on Identify submits: a new pending request, Waiting",
                   bool(fresh) and ok and who == USER_ID, f"{detail}; request for {who}")

        # 5. Waiting: CPU and memory of the app
        if ok:
            u = json.loads(self.out_of("vm-guest usage 30", timeout=90))
            self.measure("app CPU on Waiting (30 s, from /proc)", u["cpu_percent_of_one_core"], "% of one core")
            self.measure("app RSS on Waiting", round(u["rss_kib"] / 1024, 1), "MiB")

        # 6. approval on the phone -> Signed in
        if fresh:
            rid = fresh[-1]["auth_req_id"]
            self.sim("POST", f"/_sim/approve/{rid}")
            # The TV collects the tokens; Signed in opens with "Fortsæt" focused (OK would
            # hand off). The details are the row's last button: three Rights reach it whether
            # or not "Husk mig" is offered (an edge keeps focus), and OK shows the details, as
            # the app's own reference render of the screen does.
            self.wait("the tokens collected", 30, lambda: [
                r for r in self.requests() if r["auth_req_id"] == rid and r["status"] == "collected"])
            # Never press OK on Waiting: that would be its Cancel button.
            self.wait("Waiting to go", 30, lambda: self.which(self.look()[0])[0] != "waiting")
            time.sleep(1)
            for key in ("right", "right", "right", "ret"):
                self.vm.send_keys(key)
                time.sleep(0.3)
        ok, detail = self.wait_screen("signed-in", 30)
        self.save("4-signed-in")
        self.check("approval at the simulator -> Signed in (details shown from their button)", bool(fresh) and ok, detail)

        self.sigkill()
        self.back_on_start()
        self.shipped_config()
        self.gpu_race()

    def scaled_like_reference(self, path, screen):
        """The focus ring where the 1920x1080 reference has it, times the mode's scale,
        within 1% of the screen."""
        w, h = self.mode
        scale = min(w / 1920, h / 1080)
        ref = images.colour_box(os.path.join(self.out, f"ref-{screen}.png"), FOCUS_RING)
        got = images.colour_box(path, FOCUS_RING)
        if ref is None or got is None:
            return False, f"focus ring found: reference {ref}, screen {got}"
        want = tuple(round(v * scale) for v in ref)
        off = max(abs(a - b) for a, b in zip(got, want))
        return off <= 0.01 * w, f"focus ring at {got}, want {want} (scale {scale:.3f}), off by {off} px"

    def key_latency(self):
        """QMP key OK on a still Start screen until the screendump changes."""
        a, b = self.dump(), None
        da = images.digest(a)
        time.sleep(1.0)
        b = self.dump()
        if images.digest(b) != da:
            self.note("Start is not still (it changes without a key): no key latency measured")
            self.vm.send_keys("ret")
            return
        t0 = time.monotonic()
        self.vm.send_keys("ret")
        polls = 0
        while time.monotonic() - t0 < 10:
            polls += 1
            if images.digest(self.dump()) != da:
                ms = round((time.monotonic() - t0) * 1000)
                self.measure("key press (QMP) to changed screendump", ms, f"ms ({polls} screendumps)")
                return
        self.note("the screen did not change within 10 s of the key")

    def sigkill(self):
        st = self.service()
        pid, restarts = st["MainPID"], int(st.get("NRestarts", 0))
        self.out_of(f"kill -KILL {pid}")
        t0 = time.monotonic()
        # Until the new app draws: the TV is black or shows the last app frame, never the
        # text console (its text or blinking cursor).
        console = samples = 0
        while time.monotonic() - t0 < 20:
            path = self.dump()
            samples += 1
            name, d, _ = self.which(images.signature(path))
            if d < MATCH:
                new_st = self.service()
                if new_st["MainPID"] not in ("0", pid) and new_st["ActiveState"] == "active":
                    break
            elif images.shows_console(path):
                console += 1
                images.to_png(path, os.path.join(self.out, "5-console-after-kill.png"))
        new = self.wait("the restart", 60, lambda: (lambda s: s if s["ActiveState"] == "active" and s["MainPID"] not in ("0", pid) else None)(self.service()))
        ok, detail = self.wait_screen("start", 60)
        gap = time.monotonic() - t0
        self.save("5-start-after-kill")
        self.check("SIGKILL -> systemd restarts it -> Start", bool(new) and ok,
                   f"{detail}; restarts {restarts} -> {new['NRestarts'] if new else '?'}; {gap:.1f} s")
        self.check("between the crash and the restart the TV shows no console text or cursor",
                   console == 0, f"{console} of {samples} screendumps showed the console")

    def back_on_start(self):
        st = self.service()
        self.vm.send_keys("esc")
        self.out_of(f"vm-guest press {KEY_BACK}")
        time.sleep(5)
        after = self.service()
        ok, detail = self.wait_screen("start", 10)
        self.check("Back on Start (Escape, KEY_BACK), shipped back_on_start: Start stays, same process",
                   ok and after["ActiveState"] == "active" and after["MainPID"] == st["MainPID"],
                   f"{detail}; pid {st['MainPID']} -> {after['MainPID']}, {after['ActiveState']}")
        # An operator who sets back_on_start = "exit" on a kiosk still never gets a dark TV.
        self.out_of(f"cp -p /etc/{PKG}/config.toml /root/sim-config.toml && "
                    f"sed -i 's/^back_on_start = .*/back_on_start = \"exit\"/' /etc/{PKG}/config.toml && "
                    f"systemctl restart {UNIT}")
        ok, _ = self.wait_screen("start", 60)
        st = self.service()
        self.vm.send_keys("esc")
        time.sleep(3)
        ok2, detail = self.wait_screen("start", 20)
        after = self.service()
        self.check('Back on Start with back_on_start = "exit": Start is back within 20 s',
                   ok and ok2 and after["ActiveState"] == "active",
                   f"{detail}; pid {st['MainPID']} -> {after['MainPID']}, restarts {st['NRestarts']} -> {after['NRestarts']}")
        self.out_of(f"cp -p /root/sim-config.toml /etc/{PKG}/config.toml && systemctl restart {UNIT}")
        self.wait_screen("start", 60)

    def shipped_config(self):
        self.out_of(f"install -m 0640 -o root -g {PKG} /root/shipped-config.toml /etc/{PKG}/config.toml && "
                    f"systemctl reset-failed {UNIT}; systemctl restart {UNIT}")
        ok, detail = self.wait_screen("config-error", 60)
        self.save("6-config-error")
        time.sleep(5)
        st = self.service()
        self.check("the shipped config shows the config-error screen, not black",
                   ok and st["ActiveState"] == "active",
                   f"{detail}; {st['ActiveState']}/{st['SubState']}, restarts {st['NRestarts']}")
        self.out_of(f"cp -p /root/sim-config.toml /etc/{PKG}/config.toml && "
                    f"systemctl reset-failed {UNIT}; systemctl restart {UNIT}")

    def gpu_race(self):
        """The app started while no DRM device exists yet (the driver not bound)."""
        # virtio_gpu drives a virtio device (virtioN) on the virtio-gpu-pci function.
        dev = self.out_of("basename /sys/bus/virtio/drivers/virtio_gpu/virtio*").strip()
        self.out_of(f"systemctl stop {UNIT} && systemctl reset-failed {UNIT}; "
                    f"echo {dev} > /sys/bus/virtio/drivers/virtio_gpu/unbind && "
                    "for i in $(seq 50); do [ -e /dev/dri/card0 ] || exit 0; sleep 0.1; done; exit 1")
        # A journal cursor, not a timestamp: `--since` has whole seconds, and the stop above
        # may share the second with the start below.
        cursor = self.out_of("journalctl -n 1 -o cat --show-cursor --no-pager | sed -n 's/^-- cursor: //p'").strip()
        self.out_of(f"systemctl start --no-block {UNIT}")
        time.sleep(8)
        waiting = self.service()
        self.out_of(f"echo {dev} > /sys/bus/virtio/drivers/virtio_gpu/bind && "
                    "for i in $(seq 100); do [ -e /dev/dri/card0 ] && exit 0; sleep 0.1; done; exit 1")
        up = self.wait("the service", 60, lambda: (lambda s: s if s["ActiveState"] == "active" else None)(self.service()))
        ok, detail = self.wait_screen("start", 60)
        self.save("7-start-after-late-gpu")
        st = self.service()
        log = self.out_of(f"journalctl -u {UNIT} -o cat --no-pager --after-cursor '{cursor}'")
        crashes = sum(1 for line in log.splitlines() if "No renderers" in line or "Failed with result" in line)
        self.check("started before the GPU driver: comes up once the card appears, no crash loop",
                   ok and bool(up) and int(st["NRestarts"]) == 0 and crashes == 0,
                   f"{detail}; while no card: {waiting['ActiveState']}/{waiting['SubState']}; "
                   f"restarts {st['NRestarts']}, {crashes} failures logged")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mode", default="1920x1080")
    p.add_argument("--arch", default="amd64")
    p.add_argument("--image-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--boot-timeout", type=float, default=300)
    args = p.parse_args()
    return 0 if Run(args).run() else 1


if __name__ == "__main__":
    sys.exit(main())
