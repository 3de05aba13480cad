"""One writer at a time for `newsbot index` (issue 21): a second run waits with one line saying
so and then finds the work done; runs at once never collide; a failed save (a full disk)
leaves no temporary folder behind."""

from __future__ import annotations

import errno
import fcntl
import logging
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from test_cli import TIMEOUT

from bot.config import Settings
from bot.indexing import storage, updates


@pytest.fixture
def env(env, knowledge_copy):
    """conftest's `env` over a writable copy of tests/knowledge."""
    return {**env, "NEWSBOT_KNOWLEDGE_DIR": str(knowledge_copy)}


def _index(env):
    return subprocess.Popen([sys.executable, "-m", "bot", "index", "--no-vectors"], env=env,
                            cwd=env["HOME"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_a_second_run_waits_for_the_first_and_says_so(env, knowledge_copy):
    target = knowledge_copy / ".newsbot"
    with open(knowledge_copy / ".newsbot.lock", "a") as lock:  # a run in progress
        fcntl.flock(lock, fcntl.LOCK_EX)
        waiting = _index(env)
        line = waiting.stderr.readline()
        assert "another newsbot run is writing" in line and str(target) in line
        assert waiting.poll() is None  # still waiting
    out, err = waiting.communicate(timeout=TIMEOUT)
    assert waiting.returncode == 0, err
    assert storage.is_current(knowledge_copy, target)


def test_runs_at_once_all_succeed(env, knowledge_copy):
    for _ in range(3):
        runs = [_index(env) for _ in range(2)]
        results = [run.communicate(timeout=TIMEOUT) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], results
        assert "cannot save" not in "".join(err for _, err in results)
    assert storage.is_current(knowledge_copy, knowledge_copy / ".newsbot")
    leftovers = [p.name for p in knowledge_copy.iterdir() if ".tmp" in p.name or ".old" in p.name]
    assert not leftovers


def test_a_failed_save_leaves_no_temporary_folder(knowledge_copy, tmp_path, monkeypatch):
    settings = Settings(knowledge_dir=knowledge_copy, cache_dir=tmp_path / "cache")
    storage.build_and_save(settings)
    before = sorted(p.name for p in knowledge_copy.iterdir())
    real, calls = np.save, []

    def full_disk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "save", full_disk)
    with pytest.raises(OSError):
        storage.build_and_save(settings)
    assert sorted(p.name for p in knowledge_copy.iterdir()) == before
    assert storage.load(settings.saved_index_dir)  # the saved index is untouched


def test_fetch_and_the_feed_round_save_under_the_same_lock(knowledge_copy, tmp_path, caplog):
    """`updates.save_index` (newsbot fetch, the bot's feed round) waits for a writer holding
    the lock, then removes killed runs' leftovers and saves."""
    settings = Settings(knowledge_dir=knowledge_copy, cache_dir=tmp_path / "cache")
    target = settings.saved_index_dir
    (knowledge_copy / ".newsbot.tmp-999999").mkdir()  # a killed run's
    caplog.set_level(logging.INFO, logger="bot.indexing.updates")
    with ThreadPoolExecutor(1) as pool:
        with open(target.with_name(target.name + ".lock"), "a") as lock:  # a run in progress
            fcntl.flock(lock, fcntl.LOCK_EX)
            saving = pool.submit(updates.save_index, settings)
            for _ in range(600):  # a bound (30 s), not a pause
                if "another newsbot run is writing" in caplog.text or saving.done():
                    break
                time.sleep(0.05)
            assert "another newsbot run is writing" in caplog.text and not saving.done()
        assert saving.result(timeout=TIMEOUT) is updates.Saved.SAVED
    assert storage.is_current(knowledge_copy, target)
    assert not (knowledge_copy / ".newsbot.tmp-999999").exists()
