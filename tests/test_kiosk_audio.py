"""Spoken prompts: made offline by Debian's espeak-ng, served from a fixed table, played by the page."""
from __future__ import annotations

import http.client
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from firmware_app.cli import main as gatectl
from firmware_app.kiosk.audio import audio_table, build_prompts, prompt_texts
from firmware_app.kiosk.errors import KioskConfigError
from firmware_app.kiosk.server import KioskServer
from firmware_app.kiosk.view import Instruction, KioskView, Screen

ROOT = Path(__file__).resolve().parent.parent
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng not installed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (scripts/setup.sh installs it)")
    out = tmp_path_factory.mktemp("audio")
    assert gatectl(["kiosk", "audio", "--out", str(out), "--port", "0"]) == 0
    return out


@needs_espeak
def test_every_screen_and_instruction_has_a_prompt_in_every_language(prompts):
    for language in ("en", "fr", "es", "ar", "ru", "zh"):
        names = prompt_texts(language)
        assert len(names) == len(Screen) + len(Instruction)
        for name in names:
            data = (prompts / language / f"{name}.wav").read_bytes()
            assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) > 4000, (language, name)
    assert build_prompts(prompts, ("fr", "ar")) == 0   # unchanged texts: nothing is made again


def test_a_missing_espeak_is_a_clear_error(tmp_path):
    with pytest.raises(KioskConfigError, match="not installed"):
        build_prompts(tmp_path, ("en",), espeak="/nonexistent/espeak-ng")


def test_only_known_prompts_are_served(prompts):
    server = KioskServer(lambda _: None, port=0, audio_dir=prompts)
    server.start()
    try:
        def get(path):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            return response.status, response.getheader("Content-Type"), body
        status, kind, body = get("/audio/ar/screen.see_officer.wav")
        assert (status, kind) == (200, "audio/wav") and body[:4] == b"RIFF"
        for path in ("/audio/ar/../../etc/passwd", "/audio/de/screen.welcome.wav", "/audio/en/.texts.sha256"):
            assert get(path)[0] == 404
    finally:
        server.stop()
    assert audio_table(prompts / "nowhere", ("en",)) == {}


def test_the_page_speaks_the_screen_then_its_instruction(kiosk_browser, prompts):
    from kiosk_browser_helpers import Page
    page = Page(kiosk_browser, audio_dir=prompts)
    try:
        page.show(KioskView(Screen.LOOK_AT_CAMERA, 3, 5, Instruction.REMOVE_HAT.value, "FRA"))
        assert page.attr("body", "data-prompts") == ("/audio/fr/screen.look_at_camera.wav "
                                                     "/audio/fr/instruction.remove_hat.wav")
        page.wait(lambda: page.attr("body", "data-speaking") == "/audio/fr/instruction.remove_hat.wav", timeout=15)
        assert page.attr("body", "data-audio-error") is None   # Chromium played them (autoplay allowed)
    finally:
        page.close()
    silent = Page(kiosk_browser)   # no audio_dir: the page stays silent
    try:
        silent.show(KioskView(Screen.READING_CHIP, 2, 5, language_hint="FRA"))
        assert silent.attr("body", "data-speaking") is None
    finally:
        silent.close()


ONESTOP = ('[device]\nid = "g"\npost_id = "p"\n[reader]\nurl = "sim://"\n[kiosk]\nlanguages = ["en"]\n'
           '[onestop]\nshared_fields = []\n'
           '[[authority]]\nrole = "exit"\ncountry = "UTO"\ndata_dir = "var/u"\n'
           '[authority.bmis]\nport = 1\ncommand_keys_dir = "var/u/k"\n'
           '[authority.kiosk.texts.en]\n"title.welcome" = "Leaving Utopia"\n'
           '[[authority]]\nrole = "entry"\ncountry = "ARC"\ndata_dir = "var/a"\n'
           '[authority.bmis]\nport = 2\ncommand_keys_dir = "var/a/k"\n')


@needs_espeak
def test_a_onestop_authoritys_wording_is_spoken_as_the_screen_shows_it(prompts, tmp_path):
    """`gatectl kiosk audio --config` speaks the authorities' wording; prompts made without it are
    not played for the reworded screens (silence, not the lane's words under the authority's title)."""
    config = tmp_path / "onestop.toml"
    config.write_text(ONESTOP)
    own = tmp_path / "audio"
    assert gatectl(["kiosk", "audio", "--config", str(config), "--out", str(own)]) == 0
    wording = {"en": {"title.welcome": "Leaving Utopia"}}
    assert prompt_texts("en", wording=wording["en"])["screen.welcome"].startswith("Leaving Utopia. ")
    assert (own / "en/screen.welcome.wav").read_bytes() != (prompts / "en/screen.welcome.wav").read_bytes()
    assert (own / "en/screen.see_officer.wav").read_bytes() == (prompts / "en/screen.see_officer.wav").read_bytes()
    for folder, served in ((own, True), (prompts, False)):
        server = KioskServer(lambda _: None, port=0, offered=("en",), audio_dir=folder)
        server.reword(wording)
        assert ("/audio/en/screen.welcome.wav" in server.audio) is served
        assert "/audio/en/screen.see_officer.wav" in server.audio


def _setup_audio_lines(home: Path, as_user: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess:
    """setup.sh's prompt step (scripts/kiosk-audio.sh), run in `home` (its .venv: this one's)."""
    assert "bash scripts/kiosk-audio.sh" in (ROOT / "scripts" / "setup.sh").read_text()
    bin_dir = home / ".venv" / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir(parents=True)
        for tool in ("gatectl", "python"):
            (bin_dir / tool).symlink_to(Path(sys.executable).parent / tool)
    clean = {k: v for k, v in os.environ.items() if k not in ("GATE_CONFIG", "KIOSK_AUDIO_DIR")}
    return subprocess.run([*as_user, "bash", str(ROOT / "scripts" / "kiosk-audio.sh")], cwd=home,
                          capture_output=True, text=True, env={**clean, **env}, timeout=120)


@needs_espeak
def test_setup_makes_the_prompts_from_the_gates_config_with_the_authorities_wording(tmp_path):
    """GATE_CONFIG (a one-stop config): the prompts speak the exit authority's wording, so the gate
    plays them (audio_table serves them), and go where that config plays them from: its [kiosk]
    audio_dir, var/kiosk-audio when it has none, KIOSK_AUDIO_DIR when set."""
    (tmp_path / "gate.toml").write_text(ONESTOP)
    (tmp_path / "own.toml").write_text(ONESTOP.replace("[kiosk]\n", '[kiosk]\naudio_dir = "spoken"\n'))
    wording = {"en": {"title.welcome": "Leaving Utopia"}}
    for config, env, folder in (("gate.toml", {}, "var/kiosk-audio"), ("own.toml", {}, "spoken"),
                                ("own.toml", {"KIOSK_AUDIO_DIR": "chosen"}, "chosen")):
        done = _setup_audio_lines(tmp_path, GATE_CONFIG=config, **env)
        assert done.returncode == 0, done.stderr
        served = audio_table(tmp_path / folder, ("en",), wording=wording)
        assert "/audio/en/screen.welcome.wav" in served and "/audio/en/screen.see_officer.wav" in served, folder
        assert not (tmp_path / folder / "fr").exists()       # the config's languages only
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir() and p.name != ".venv") == ["chosen", "spoken", "var"]


@pytest.fixture
def locked_out(tmp_path):
    """A user who may not write the config's audio_dir: nobody (65534) when the tests run as root
    (in a folder under /tmp nobody can enter; tmp_path's parents are root's own), else this user."""
    if os.geteuid() != 0:
        yield tmp_path, ()
        return
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to run setup's step as a non-root user")
    home = Path(tempfile.mkdtemp(prefix="kiosk-audio-"))
    home.chmod(0o755)
    try:
        yield home, ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    finally:
        shutil.rmtree(home)


def _unwritable_audio_dir(home: Path, sudo: str) -> tuple[Path, Path, dict[str, str]]:
    """gate.toml whose audio_dir lies in a folder the user cannot write, and `sudo` on PATH."""
    (home / "locked").mkdir(mode=0o555)
    audio_dir = home / "locked" / "kiosk-audio"
    config = home / "gate.toml"
    config.write_text(ONESTOP.replace("[kiosk]\n", f'[kiosk]\naudio_dir = "{audio_dir}"\n'))
    (home / "bin").mkdir()
    (home / "bin" / "sudo").write_text(f"#!/bin/sh\n{sudo}\n")
    (home / "bin" / "sudo").chmod(0o755)
    (home / "log").mkdir(mode=0o777)
    (home / "log").chmod(0o777)      # past the umask: the non-root user writes the fake sudo's log
    # KIOSK_AUDIO_DIR: the same folder, named without running Python as the other user (this
    # machine's interpreter may sit where only root can reach it); the root test above reads it from the config.
    return audio_dir, config, {"GATE_CONFIG": str(config), "KIOSK_AUDIO_DIR": str(audio_dir),
                               "PATH": f"{home / 'bin'}:{os.environ['PATH']}"}


def test_setup_writes_an_unwritable_audio_dir_with_sudo_when_it_needs_no_password(locked_out):
    home, as_user = locked_out
    audio_dir, config, env = _unwritable_audio_dir(home, f'printf "%s\\n" "$*" >> {home}/log/sudo')
    done = _setup_audio_lines(home, as_user, **env)
    assert done.returncode == 0, done.stderr
    assert f"spoken prompts in {audio_dir} with sudo" in done.stdout
    assert (home / "log" / "sudo").read_text().splitlines() == [
        "-n true", f"-n {home}/.venv/bin/gatectl kiosk audio --config {config} --out {audio_dir}"]


@needs_espeak
def test_setup_without_sudo_names_the_folder_and_the_command_and_carries_on(locked_out):
    home, as_user = locked_out
    audio_dir, config, env = _unwritable_audio_dir(home, 'echo "sudo: a password is required" >&2; exit 1')
    done = _setup_audio_lines(home, as_user, **env)
    assert done.returncode == 0, done.stderr
    said = done.stderr.strip().splitlines()
    assert len(said) == 2 and f"prompts were NOT made: {audio_dir} is not writable" in said[0], done.stderr
    command = shlex.split(said[1])
    assert command == ["sudo", f"{home}/.venv/bin/gatectl", "kiosk", "audio", "--config", str(config),
                       "--out", str(audio_dir)]
    assert not audio_dir.exists()
    (home / "locked").chmod(0o755)     # what sudo grants: the very command makes the prompts there
    assert subprocess.run(command[1:], capture_output=True, timeout=120).returncode == 0
    assert "/audio/en/screen.see_officer.wav" in audio_table(audio_dir, ("en",))


def test_a_folder_gatectl_cannot_write_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert gatectl(["kiosk", "audio", "--out", str(tmp_path / "file" / "audio"), "--port", "0"]) == 1
    assert capsys.readouterr().err.startswith("kiosk audio: [Errno 20] Not a directory")
