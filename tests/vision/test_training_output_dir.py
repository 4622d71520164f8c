"""Where a training run keeps its checkpoint and log (vision.training.common.output_dir_for)."""

import argparse

from vision.training.common import output_dir_for


def test_a_run_not_resumed_starts_its_log_afresh_and_a_resumed_one_goes_on(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"epoch": 0}\n')
    resumed = argparse.Namespace(output_dir=str(tmp_path), name="tiny", resume=True)
    assert output_dir_for(resumed) == str(tmp_path) and log.read_text() == '{"epoch": 0}\n'
    output_dir_for(argparse.Namespace(output_dir=str(tmp_path), name="tiny", resume=False))
    assert not log.exists()
    output_dir_for(argparse.Namespace(output_dir=str(tmp_path / "new"), name="tiny", resume=False))  # none yet
    assert (tmp_path / "new").is_dir()
