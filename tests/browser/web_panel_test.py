#!/usr/bin/python3
"""Real-browser end-to-end tests of the web panel of `dspjit run --web`.

Headless Chromium, driven by chromedriver through Selenium, opens the page
that `dspjit run FILE --web` serves while the session plays
examples/audio/drums.wav on a private JACK server (dummy driver), and
checks what a user sees and does (session/WebPanel.h, session/web/):

  PanelTest     a copy of examples/freeverb.dsp in a temporary folder, one
                session: a control per parameter, a meter that moves, the
                keyboard and typed values reaching the session (read back
                with the console's `get`, and heard in the recording), two
                tabs in sync and console changes in the page (latencies
                printed), a broken save's diagnostics, a wrong or missing
                token, and a screenshot of the panel
  ExamplesTest  every script in examples/ opens without a JavaScript error

Run by ctest (label "browser", tests/browser/CMakeLists.txt), or by hand
from the source tree:

  /usr/bin/python3 tests/browser/web_panel_test.py --dspjit build/tools/dspjit
      --screenshot docs/web-panel.png   also update the README's picture
      -k PanelTest                      unittest's own options follow

Needs Debian's chromium, chromium-driver and python3-selenium (scripts/dev
installs them) and jackd2; run it with /usr/bin/python3, which has them.
"""
import argparse
import array
import contextlib
import ctypes
import fcntl
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DRUMS = EXAMPLES / "audio" / "drums.wav"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW = (1400, 1000)

# Set by main() from the command line.
ARGS = argparse.Namespace(dspjit=None, screenshot=None, keep=False)
# Every child process still running, to kill on SIGTERM (a ctest timeout).
CHILDREN = set()

# ---- Processes ---------------------------------------------------------------


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM if this process dies first."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(argv, **kwargs):
    """Popen from the main thread (PR_SET_PDEATHSIG follows the thread)."""
    proc = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kwargs)
    CHILDREN.add(proc)
    return proc


def stop_process(proc, first=signal.SIGTERM, grace=5.0):
    """Sends `first`, then SIGKILL after `grace` seconds; reaps it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(first)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    CHILDREN.discard(proc)


def on_signal(signum, _frame):
    """SIGTERM or SIGINT (a ctest timeout, Ctrl-C): stop every child now."""
    for proc in list(CHILDREN):
        with contextlib.suppress(OSError):
            if getattr(proc, "own_group", False):  # chromedriver and chromium
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.terminate()
    if WORKDIR and not ARGS.keep:
        shutil.rmtree(WORKDIR, ignore_errors=True)
    sys.stderr.write(f"web_panel_test: stopped by signal {signum}\n")
    os._exit(128 + signum)


def wait_until(predicate, timeout, what, seen=None):
    """Polls `predicate` until it returns something true, which is returned;
    after `timeout` seconds fails saying `what`, and what `seen()` says."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"; last seen: {seen()}" if seen else ""
            raise AssertionError(f"{what}: not within {timeout} s{detail}")
        time.sleep(0.02)


class Lines:
    """A child's output, line by line, read by a thread of its own."""

    def __init__(self, stream, name):
        self.name = name
        self.lines = []
        self.closed = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream,),
                                       daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in stream:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.lines)

    def since(self, start):
        with self.cond:
            return self.lines[start:]

    def tail(self, n=15):
        with self.cond:
            return "\n".join(self.lines[-n:])

    def wait_for(self, pattern, timeout, start=0):
        """The first match of `pattern` in a line from `start` on."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    match = regex.search(self.lines[i])
                    if match:
                        return match
                    i += 1
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    why = "exited" if self.closed else f"not within {timeout} s"
                    raise AssertionError(
                        f"{self.name}: no line matching {pattern!r} ({why}); "
                        f"its last lines:\n{self.tail()}")
                self.cond.wait(left)


# ---- A private JACK server ---------------------------------------------------
#
# As tests/support/JackServer.cpp does: the server's name is the first of a
# small pool that no running server has (JACK2's registry holds 8 servers,
# and frees the entry of a killed one only when a server of that name
# starts again), and starting servers and opening or closing their clients
# happen under the same lock file as the C++ tests' (a starting jackd
# cleans the shared registry, which fails clients being opened meanwhile).

REGISTRY = "/dev/shm/jack-shm-registry"


@contextlib.contextmanager
def jack_setup_lock():
    path = Path(tempfile.gettempdir()) / f"dspjit-jack-setup-{os.getuid()}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def running_jack_servers():
    """The names ("jack-UID:NAME:") of the servers in JACK2's registry whose
    process is alive (layout: a 24-byte header, 8 entries of 264 bytes,
    {int32 pid; char name[257];})."""
    try:
        data = Path(REGISTRY).read_bytes()[:24 + 8 * 264]
    except OSError:
        return set()
    if len(data) < 24 + 8 * 264 or struct.unpack_from("<I", data)[0] != 0x4A41434B:
        return set()
    names = set()
    for k in range(8):
        pid = struct.unpack_from("<i", data, 24 + 264 * k)[0]
        name = data[28 + 264 * k:24 + 264 * (k + 1)].split(b"\0")[0]
        if pid > 0:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            except PermissionError:
                pass
            names.add(name.decode(errors="replace"))
    return names


class JackServer:
    def __init__(self, workdir):
        self.log_path = workdir / "jackd.log"
        with jack_setup_lock():
            taken = running_jack_servers()
            free = [f"dspjit-browser-{k}" for k in range(8)
                    if f"jack-{os.getuid()}:dspjit-browser-{k}:" not in taken]
            if len(taken) >= 8 or not free:
                raise RuntimeError(f"JACK's registry is full: {sorted(taken)}")
            self.name = free[0]
            self.env = dict(os.environ, JACK_DEFAULT_SERVER=self.name,
                            JACK_NO_START_SERVER="1",
                            JACK_NO_AUDIO_RESERVATION="1")
            with open(self.log_path, "wb") as log:
                self.proc = spawn(
                    ["jackd", "--no-realtime", "-n", self.name, "-d", "dummy",
                     "-r", "48000", "-p", "64"],
                    stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, env=self.env)
            ready = subprocess.run(
                ["jack_wait", "-s", self.name, "-w", "-t", "15"], env=self.env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=30, check=False)
            if ready.returncode != 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"jackd '{self.name}' did not start; its log:\n"
                    f"{self.log_path.read_text(errors='replace')}")

    def stop(self):
        with jack_setup_lock():
            stop_process(self.proc, grace=3)


# ---- dspjit run --web -----------------------------------------------------


class Session:
    """`dspjit run SCRIPT --web --no-status ARGS...` on `jack`, its stdin the
    console, its stderr read line by line."""

    def __init__(self, jack, script, args, workdir, cwd=ROOT):
        self.script = Path(script)
        self.stdout_path = workdir / f"{self.script.stem}.stdout"
        self.quitting = False
        argv = [ARGS.dspjit, "run", str(script), "--web", "--no-status", *args]
        with jack_setup_lock(), open(self.stdout_path, "wb") as out:
            self.proc = spawn(argv, cwd=cwd, env=jack.env,
                              stdin=subprocess.PIPE, stdout=out,
                              stderr=subprocess.PIPE)
            self.err = Lines(self.proc.stderr, f"dspjit run {script}")
            try:
                self.url = self.err.wait_for(r"web panel at (http://\S+)",
                                             30).group(1)
                self.err.wait_for(r"^dspjit run: running", 30)
            except AssertionError:
                stop_process(self.proc, signal.SIGKILL)
                raise

    def died(self):
        """What happened, if dspjit run exited before quit(); else None."""
        if self.quitting or self.proc.poll() is None:
            return None
        code = self.proc.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"status {code}"
        return (f"dspjit run {self.script} exited ({how}) before being told "
                f"to quit; its last lines:\n{self.err.tail()}")

    @contextlib.contextmanager
    def alive(self):
        """A failure inside says so if dspjit run died meanwhile."""
        try:
            yield
        except Exception as e:
            why = self.died()
            if why:
                raise AssertionError(f"{why}\n(what failed: {e})") from e
            raise

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def set(self, name, value):
        """`set NAME VALUE` on the console; returns its reply."""
        start = self.err.mark()
        self.send(f"set {name} {value}")
        return self.err.wait_for(rf"^({re.escape(name)} = |warning: |error: )",
                                 5, start).string

    def get(self, name):
        """The parameter's target, from `get NAME` on the console."""
        start = self.err.mark()
        self.send(f"get {name}")
        match = self.err.wait_for(rf"^{re.escape(name)} = (\S+)", 5, start)
        return float(match.group(1))

    def quit(self):
        """`quit` on the console; the exit status."""
        self.quitting = True
        with jack_setup_lock():
            if self.proc.poll() is None:
                with contextlib.suppress(BrokenPipeError):
                    self.send("quit")
                    self.proc.stdin.close()
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    stop_process(self.proc, signal.SIGKILL)
            CHILDREN.discard(self.proc)
        self.err.thread.join(5)
        for stream in (self.proc.stdin, self.proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()
        return self.proc.returncode


# ---- The browser -------------------------------------------------------------


class Browser:
    """Headless Chromium through chromedriver (in a process group of its
    own, so that nothing of it outlives the test)."""

    def __init__(self, workdir):
        profile = workdir / "chromium-profile"
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ["--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}",
                    f"--window-size={WINDOW[0]},{WINDOW[1]}"]:
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.service = Service(CHROMEDRIVER,
                               log_path=str(workdir / "chromedriver.log"),
                               popen_kw={"start_new_session": True})
        try:
            self.driver = webdriver.Chrome(service=self.service, options=options)
        except Exception:
            self.kill()
            raise
        self.service.process.own_group = True
        CHILDREN.add(self.service.process)
        self.driver.set_script_timeout(10)

    def kill(self):
        proc = getattr(self.service, "process", None)
        if proc is not None:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            CHILDREN.discard(proc)

    def close(self):
        try:
            self.driver.quit()
        finally:
            self.kill()

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def errors(self):
        """The page's console errors since the last call."""
        return [e["message"] for e in self.driver.get_log("browser")
                if e["level"] == "SEVERE"]

    def text(self, element_id):
        return self.js("return document.getElementById(arguments[0]).textContent",
                       element_id)

    def open_panel(self, url, timeout=10):
        """Opens the panel and waits until it shows the running session."""
        self.driver.get(url)
        wait_until(lambda: self.text("state").startswith("running at"), timeout,
                   f"{url}: #state says the session runs",
                   lambda: self.text("state"))

    def output_meter(self):
        """The output meter's aria-valuenow of each lane (None: not yet)."""
        return self.js("""
            const row = document.querySelector('#meters div.meter');
            if (!row) return [];
            return [...row.querySelectorAll('.bar[role=meter]')].map(
                b => b.hasAttribute('aria-valuenow')
                    ? Number(b.getAttribute('aria-valuenow')) : null);""")

    def clock_offset_ms(self):
        """The page's clock (performance.timeOrigin + now) minus this
        process's time.time(), in ms, and the round trip it was measured in."""
        best = None
        for _ in range(5):
            before = time.time() * 1000
            page = self.js("return performance.timeOrigin + performance.now()")
            after = time.time() * 1000
            if best is None or after - before < best[1]:
                best = (page - (before + after) / 2, after - before)
        return best


# In the page: note when the slider of a parameter first shows a position.
# A MutationObserver on #controls (showValue sets the slider's
# aria-valuetext) stamps the time in the page's clock.
WATCH_JS = """
const [name, position] = arguments;
window.__watch = {name, position: String(position), seenAt: null};
const check = () => {
  const w = window.__watch;
  if (!w || w.seenAt !== null) return;
  const s = document.querySelector(
      `#controls [data-param="${w.name}"] input[type=range]`);
  if (s && s.value === w.position)
    w.seenAt = performance.timeOrigin + performance.now();
};
if (!window.__observer) {
  window.__observer = new MutationObserver(check);
  window.__observer.observe(document.getElementById('controls'),
      {subtree: true, childList: true, attributes: true});
}
check();
"""

# In the page: every position a parameter's slider shows from now on.
HISTORY_JS = """
const slider = document.querySelector(
    `#controls [data-param="${arguments[0]}"] input[type=range]`);
window.__history = [];
if (window.__historyObserver) window.__historyObserver.disconnect();
window.__historyObserver = new MutationObserver(
    () => window.__history.push(slider.value));
window.__historyObserver.observe(slider, {attributes: true});
"""

# In the page: stamp every key press, in the page's clock.
KEY_STAMP_JS = """
if (!window.__keyStamp) {
  window.__keyStamp = true;
  document.addEventListener('keydown', () => {
    window.__keyAt = performance.timeOrigin + performance.now();
  }, true);
}
"""


def script_params(path):
    """(name, min, max, toggle) of each `param` line of a script."""
    params = []
    for line in Path(path).read_text().splitlines():
        match = re.match(r"\s*param\s+(\w+)\s*=.*\bin\s*\[\s*([^,\]]+),\s*([^\]]+)\]"
                         r"(.*);", line)
        if match:
            lo, hi = float(match.group(2)), float(match.group(3))
            toggle = "nosmooth" in match.group(4) and (lo, hi) == (0, 1)
            params.append((match.group(1), lo, hi, toggle))
    return params


def read_float_wav(path):
    """(rate, channels, interleaved samples) of a 32-bit float WAV file, as
    `dspjit run -w` writes by default (WAVE_FORMAT_EXTENSIBLE or not: Python's
    wave module reads neither)."""
    data = Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AssertionError(f"{path}: not a WAV file")
    chunks, pos = {}, 12
    while pos + 8 <= len(data):
        size = struct.unpack_from("<I", data, pos + 4)[0]
        chunks[data[pos:pos + 4]] = data[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    fmt, body = chunks.get(b"fmt "), chunks.get(b"data", b"")
    tag, channels, rate = struct.unpack_from("<HHI", fmt)
    bits = struct.unpack_from("<H", fmt, 14)[0]
    if tag == 0xFFFE:  # the sub-format's first two bytes are the format tag
        tag = struct.unpack_from("<H", fmt, 24)[0]
    if (tag, bits) != (3, 32):
        raise AssertionError(f"{path}: format {tag}, {bits} bits, not 32-bit float")
    return rate, channels, array.array("f", body[:len(body) // 4 * 4])


def summary(values):
    values = sorted(values)
    return (f"median {values[len(values) // 2]:.1f} ms, "
            f"min {values[0]:.1f}, max {values[-1]:.1f} (n={len(values)})")


# ---- The tests ----------------------------------------------------------------

JACK = None
BROWSER = None
WORKDIR = None


def setUpModule():  # noqa: N802 (unittest's name)
    global JACK, BROWSER, WORKDIR
    WORKDIR = Path(tempfile.mkdtemp(prefix="dspjit-browser-"))
    if not ARGS.keep:
        unittest.addModuleCleanup(shutil.rmtree, WORKDIR, ignore_errors=True)
    JACK = JackServer(WORKDIR)
    unittest.addModuleCleanup(JACK.stop)
    BROWSER = Browser(WORKDIR)
    unittest.addModuleCleanup(BROWSER.close)


class PanelTest(unittest.TestCase):
    """One session of a copy of freeverb.dsp, playing the drum loop with
    the dry signal up, recorded; the tests run in order."""

    @classmethod
    def setUpClass(cls):
        cls.dir = WORKDIR / "panel"
        cls.dir.mkdir()
        cls.script = cls.dir / "freeverb.dsp"
        shutil.copy(EXAMPLES / "freeverb.dsp", cls.script)
        cls.original = cls.script.read_text()
        cls.recording = cls.dir / "out.wav"
        (cls.dir / DRUMS.name).symlink_to(DRUMS)
        # Run from the script's folder, so that the page shows its name only.
        cls.session = Session(JACK, cls.script.name,
                              ["-p", DRUMS.name, "--loop", "--set", "dry=0.5",
                               "--set", "wet=0.4", "--set", "roomsize=0.7",
                               "-w", cls.recording.name,
                               "-t", "600"], cls.dir, cwd=cls.dir)
        cls.addClassCleanup(cls.session.quit)
        cls.b = BROWSER
        cls.driver = BROWSER.driver
        BROWSER.errors()
        with cls.session.alive():
            BROWSER.open_panel(cls.session.url)
        cls.main_window = cls.driver.current_window_handle
        cls.addClassCleanup(cls.close_other_windows)

    @classmethod
    def close_other_windows(cls):
        for handle in cls.driver.window_handles:
            if handle != cls.main_window:
                cls.driver.switch_to.window(handle)
                cls.driver.close()
        cls.driver.switch_to.window(cls.main_window)

    def setUp(self):
        self.driver.switch_to.window(self.main_window)

    def tearDown(self):
        why = self.session.died()
        if why:
            self.fail(why)

    def control(self, name, kind):
        """A parameter's slider ("range"), number field ("number") or
        switch ("checkbox")."""
        return self.driver.find_element(
            By.CSS_SELECTOR, f'#controls div.param[data-param="{name}"] '
                             f'input[type="{kind}"]')

    def assert_target(self, name, want):
        """`get NAME` on the console gives `want` (soon: the page's message
        and the console's command travel apart)."""
        seen = []

        def matches():
            seen.append(self.session.get(name))
            return abs(seen[-1] - want) < 1e-5
        wait_until(matches, 2, f"`get {name}` on the console giving {want}",
                   lambda: seen[-1])

    def test_1_a_control_per_parameter(self):
        self.assertRegex(self.b.text("state"), r"^running at 48000 Hz")
        self.assertEqual(self.b.text("script"), self.script.name)
        want = script_params(self.script)
        self.assertEqual(len(want), 6, "freeverb.dsp's param lines")
        rows = self.b.js("""
            return [...document.querySelectorAll('#controls div.param')].map(r => ({
              name: r.dataset.param,
              inputs: [...r.querySelectorAll('input')].map(i =>
                  [i.type, i.getAttribute('role'), i.getAttribute('aria-label')])}));""")
        self.assertEqual([r["name"] for r in rows], [p[0] for p in want],
                         "the page's controls, in the script's order")
        for row, (name, _, _, toggle) in zip(rows, want):
            if toggle:
                expected = [["checkbox", "switch", name]]
            else:
                expected = [["range", None, name], ["number", None, f"{name} value"]]
            self.assertEqual(row["inputs"], expected, f"the controls of {name}")
        # The values are the session's (--set), not the script's defaults.
        self.assertEqual(self.control("dry", "number").get_attribute("value"), "0.5")
        self.assertEqual(self.control("dry", "range").get_attribute("value"), "500")
        self.assertEqual(self.b.errors(), [], "JavaScript errors")

    def test_2_the_output_meter_moves(self):
        lanes = wait_until(lambda: [v for v in self.b.output_meter() if v],
                           5, "the output meter's aria-valuenow above 0",
                           self.b.output_meter)
        self.assertEqual(len(self.b.output_meter()), 2, "a bar per output")
        print(f"output meter: {lanes}")

    def press(self, name, keys, position):
        """Presses `keys` on a slider, which moves to `position` and stays
        there (ticks sent before the change arrived must not move it back)."""
        slider = self.control(name, "range")
        self.b.js(HISTORY_JS, name)
        for key in keys:
            slider.send_keys(key)
        time.sleep(0.3)
        history = self.b.js("return window.__history")
        self.assertEqual(slider.get_attribute("value"), str(position))
        if str(position) in history:
            after = history[history.index(str(position)):]
            self.assertEqual(set(after), {str(position)},
                             f"{name}'s slider went back after reaching {position} "
                             f"(its positions: {history})")

    def test_3_keyboard_and_typed_values_reach_the_session(self):
        self.press("roomsize", [Keys.END], 1000)
        self.assert_target("roomsize", 1.0)
        self.press("roomsize", [Keys.HOME], 0)
        self.assert_target("roomsize", 0.0)
        self.press("roomsize", [Keys.ARROW_RIGHT] * 3, 3)
        self.assertEqual(self.control("roomsize", "number").get_attribute("value"),
                         "0.003")
        self.assert_target("roomsize", 0.003)
        self.press("roomsize", [Keys.ARROW_LEFT], 2)
        self.assert_target("roomsize", 0.002)

        number = self.control("damp", "number")
        number.send_keys(Keys.CONTROL, "a")
        number.send_keys("0.25", Keys.ENTER)
        self.assert_target("damp", 0.25)
        wait_until(lambda: self.control("damp", "range").get_attribute("value") == "250",
                   2, "the damp slider at 250 after typing 0.25",
                   lambda: self.control("damp", "range").get_attribute("value"))
        # Out of range: clamped by the session, which says so.
        number.send_keys(Keys.CONTROL, "a")
        number.send_keys("5", Keys.ENTER)
        self.assert_target("damp", 1.0)
        wait_until(lambda: self.b.text("reply"), 2, "a reply saying damp was clamped")
        self.assertIn("damp", self.b.text("reply"))

        freeze = self.control("freeze", "checkbox")
        freeze.click()
        self.assert_target("freeze", 1.0)
        freeze.click()
        self.assert_target("freeze", 0.0)

        # A double-click on a slider resets its parameter (width: 1).
        self.session.set("width", 0.2)
        wait_until(lambda: self.control("width", "range").get_attribute("value") == "200",
                   2, "width's slider at 200 after `set width 0.2`")
        ActionChains(self.driver).double_click(self.control("width", "range")).perform()
        self.assert_target("width", 1.0)
        self.session.set("roomsize", 0.7)
        self.session.set("damp", 0.5)

    def test_4_console_changes_show_in_the_page(self):
        offset, trip = self.b.clock_offset_ms()
        print(f"page clock - test clock: {offset:.1f} ms (measured in {trip:.1f} ms)")
        latencies = []
        for value in [0.9, 0.2, 0.75, 0.35, 0.6, 0.7]:
            self.b.js(WATCH_JS, "roomsize", round(value * 1000))
            sent = time.time() * 1000
            self.session.send(f"set roomsize {value}")
            seen = wait_until(lambda: self.b.js("return window.__watch.seenAt"), 2,
                              f"the page showing roomsize {value} after `set`")
            latencies.append(seen - offset - sent)
        print(f"console -> page latency: {summary(latencies)}")
        self.assertLess(max(latencies), 300, f"console -> page latencies {latencies}")

    def test_5_two_tabs_stay_in_sync(self):
        url = self.session.url
        self.driver.switch_to.new_window("tab")
        other = self.driver.current_window_handle
        self.b.open_panel(url)
        count = "return document.querySelectorAll('#controls .param').length"
        wait_until(lambda: self.b.js(count), 5, "the second tab's controls")
        self.driver.switch_to.window(self.main_window)
        self.b.js(KEY_STAMP_JS)
        slider = self.control("roomsize", "range")
        latencies = []
        for key, position in [(Keys.END, 1000), (Keys.HOME, 0)] * 3:
            self.driver.switch_to.window(other)
            self.b.js(WATCH_JS, "roomsize", position)
            self.driver.switch_to.window(self.main_window)
            slider.send_keys(key)
            pressed = self.b.js("return window.__keyAt")
            self.driver.switch_to.window(other)
            seen = wait_until(lambda: self.b.js("return window.__watch.seenAt"), 2,
                              f"the second tab showing roomsize at {position}")
            latencies.append(seen - pressed)
            self.driver.switch_to.window(self.main_window)
        print(f"tab -> tab latency: {summary(latencies)}")
        self.assertLess(max(latencies), 1000, f"tab -> tab latencies {latencies}")
        # And back: typed into the second tab, shown in the first.
        self.driver.switch_to.window(other)
        number = self.control("roomsize", "number")
        number.send_keys(Keys.CONTROL, "a")
        number.send_keys("0.7", Keys.ENTER)
        self.driver.switch_to.window(self.main_window)
        wait_until(lambda: slider.get_attribute("value") == "700", 1,
                   "the first tab showing roomsize 0.7 typed in the second")
        self.assert_target("roomsize", 0.7)
        self.driver.switch_to.window(other)
        self.assertEqual(self.b.errors(), [], "JavaScript errors")
        self.driver.close()

    def save(self, text):
        """Saves the script as editors do: a new file renamed over it."""
        tmp = self.script.with_name(".freeverb.dsp.tmp")
        tmp.write_text(text)
        os.replace(tmp, self.script)

    def problem_shown(self):
        return self.b.js("return !document.getElementById('problem').hidden")

    def test_6_a_broken_save_shows_its_error(self):
        lines = self.original.splitlines(keepends=True)
        index = next(i for i, line in enumerate(lines) if "let wet1 =" in line)
        broken_line = lines[index].replace("width / 2);", "width / 2;")
        self.assertNotEqual(broken_line, lines[index])
        self.save("".join(lines[:index] + [broken_line] + lines[index + 1:]))
        wait_until(self.problem_shown, 10, "#problem shown after a broken save")
        diagnostics = self.b.text("diagnostics")
        lineno = index + 1
        self.assertRegex(diagnostics, rf"{re.escape(self.script.name)}:{lineno}:\d+",
                         "the diagnostics name the broken line and its column")
        self.assertIn(broken_line.strip(), diagnostics, "the source line")
        self.assertRegex(diagnostics, r"(?m)^[\s|0-9]*\^", "a caret line")
        self.assertTrue(self.b.text("problem-line"), "#problem-line")
        print(f"diagnostics shown:\n{diagnostics}")
        # The last good version keeps playing.
        self.assertTrue(any(self.b.output_meter()), "the meter while broken")

        reloads = self.b.js("return document.querySelectorAll('#reloads li').length")
        self.save(self.original.replace("param damp     = 0.5", "param damp     = 0.4"))
        wait_until(lambda: not self.problem_shown(), 10,
                   "#problem hidden after the next good save")
        self.assertEqual(self.b.text("diagnostics"), "")
        lines = "return [...document.querySelectorAll('#reloads li')].map(li => li.textContent)"
        wait_until(lambda: any(re.match(r"reload \d+: live in", line)
                               for line in self.b.js(lines)[:-reloads or None]),
                   5, "a reload line", lambda: self.b.js(lines))

    def test_7_a_wrong_or_no_token_is_refused(self):
        url = self.session.url
        start = self.session.err.mark()
        self.driver.switch_to.new_window("tab")
        try:
            wrong = re.sub(r"token=\w+", "token=" + "0" * 32, url)
            self.driver.get(wrong)
            wait_until(lambda: "token" in self.b.text("state"), 5,
                       "a page with a wrong token says so", lambda: self.b.text("state"))
            time.sleep(2.5)  # it should not go on knocking
            self.assertEqual(self.b.js("return document.querySelectorAll('#controls *').length"),
                             0, "controls shown with a wrong token")
            refused = [line for line in self.session.err.since(start) if "refused" in line]
            self.assertLessEqual(len(refused), 1,
                                 "refused WebSockets in 2.5 s from one page with a wrong token")
            self.driver.get(url.split("#")[0])
            wait_until(lambda: "#token" in self.b.text("state"), 5,
                       "a page with no token says so", lambda: self.b.text("state"))
            self.assertEqual(self.b.js("return document.querySelectorAll('#controls *').length"),
                             0, "controls shown with no token")
            self.b.errors()  # the refused WebSocket is logged as an error
        finally:
            self.driver.close()

    def canvas_hash(self, element_id):
        return self.b.js("return document.getElementById(arguments[0]).toDataURL()",
                         element_id)

    def test_8_screenshot(self):
        self.session.set("freeze", 0)
        self.session.set("roomsize", 0.7)
        time.sleep(1.5)
        canvases = ["scope", "spectrum", "histogram"]
        # panel.js keeps the last response message it drew in lastResponse.
        if self.b.js("return lastResponse !== null"):
            canvases.append("response")
        else:
            print("note: no response message came from the server: "
                  "#response (blank) is not checked")
        for canvas in canvases:
            drawn = self.b.js("""
                const c = document.getElementById(arguments[0]);
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let i = 3; i < d.length; i += 4) n += d[i] > 0;
                return n;""", canvas)
            self.assertGreater(drawn, 500, f"pixels drawn on #{canvas}")
        before = self.canvas_hash("scope")
        wait_until(lambda: self.canvas_hash("scope") != before, 2, "the scope moving")
        self.assertTrue(any(self.b.output_meter()),
                        f"the output meter: {self.b.output_meter()}, state: "
                        f"{self.b.text('state')}, {self.b.text('seconds')}")
        # The whole page: a viewport as tall as it.
        height = self.b.js("return document.documentElement.scrollHeight")
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": WINDOW[0], "height": height, "deviceScaleFactor": 1,
            "mobile": False})
        try:
            time.sleep(0.3)
            path = Path(ARGS.screenshot) if ARGS.screenshot else self.dir / "web-panel.png"
            self.assertTrue(self.driver.save_screenshot(str(path)), f"writing {path}")
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        print(f"screenshot: {path}")

    def test_9_silence_when_wet_and_dry_are_zero(self):
        for name in ["wet", "dry"]:
            number = self.control(name, "number")
            number.send_keys(Keys.CONTROL, "a")
            number.send_keys("0", Keys.ENTER)
            self.assert_target(name, 0.0)
        wait_until(lambda: self.b.output_meter() == [0, 0], 3,
                   "the output meter at 0 with wet and dry at 0", self.b.output_meter)
        time.sleep(1.0)
        self.assertEqual(self.session.quit(), 0, "dspjit run's exit status")
        rate, channels, samples = read_float_wav(self.recording)
        self.assertEqual((rate, channels), (48000, 2))
        second = rate * channels

        def peak(start, end):
            return max(abs(s) for s in samples[start:end])
        self.assertGreater(len(samples), 4 * second, "the recording's length")
        self.assertGreater(peak(second, 2 * second), 0.03,
                           "the drums in the recording's second second")
        self.assertLess(peak(len(samples) - second // 2, len(samples)), 1e-4,
                        "the recording's last half second, with wet and dry at 0")


class ExamplesTest(unittest.TestCase):
    def test_every_example_opens_without_javascript_errors(self):
        for script in sorted(EXAMPLES.glob("*.dsp")):
            with self.subTest(example=script.name):
                self.check(script)

    def check(self, script):
        inputs = int(re.search(r"(?m)^io\s+(\d+)", script.read_text()).group(1))
        args = ["-p", str(DRUMS), "--loop"] if inputs == 2 else []
        session = Session(JACK, script, args + ["-t", "120"], WORKDIR)
        try:
            with session.alive():
                BROWSER.errors()
                BROWSER.open_panel(session.url)
                params = script_params(script)
                count = "return document.querySelectorAll('#controls div.param').length"
                wait_until(lambda: BROWSER.js(count) == len(params), 5,
                           f"{len(params)} controls", lambda: BROWSER.js(count))
                wait_until(lambda: BROWSER.text("seconds") != "–", 5, "a tick")
                time.sleep(0.5)
                self.assertEqual(BROWSER.errors(), [], "JavaScript errors")
        finally:
            status = session.quit()
        self.assertEqual(status, 0, "dspjit run's exit status; its last lines:\n"
                         + session.err.tail())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dspjit", required=True, help="the dspjit binary")
    parser.add_argument("--screenshot", help="write the panel's picture here "
                        "(default: in the temporary folder)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (logs, recording)")
    args, rest = parser.parse_known_args()
    ARGS.__dict__.update(vars(args))
    ARGS.dspjit = str(Path(args.dspjit).resolve())
    if ARGS.screenshot:
        ARGS.screenshot = str(Path(ARGS.screenshot).resolve())
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
