"""The worked RNN example (``noisynoether rnn``, issue 12 item 7), tested in pieces.

The end-to-end run trains for seconds and then solves a dozen paths (about 2 minutes for
``--quick`` on two busy cores), too long for the suite: here the training is checked to be
reproducible and to learn (a few steps), the task's states to feed ``fixed_points``, the report
to be written from a run's numbers, and the command to be registered. The full numbers are in
the README and come from ``noisynoether rnn``.
"""

import numpy as np
import pytest

from noisynoether.cases import rnn_analysis, rnn_decision
from noisynoether.cli import build_parser
from noisynoether.cli import rnn as cli_rnn


@pytest.fixture(scope="module")
def trained():
    return rnn_decision.train_decision_rnn(n=8, steps=30, seed=0)


def test_training_is_reproducible_and_learns(trained):
    again = rnn_decision.train_decision_rnn(n=8, steps=30, seed=0)
    np.testing.assert_array_equal(trained["W"], again["W"])
    np.testing.assert_array_equal(trained["losses"], again["losses"])
    other = rnn_decision.train_decision_rnn(n=8, steps=1, seed=1)
    assert not np.array_equal(other["W"], trained["W"][:8])
    assert np.mean(trained["losses"][-10:]) < np.mean(trained["losses"][:3])


def test_task_states_are_states_of_the_network(trained):
    states = rnn_decision.task_states(trained)  # the shape compiled for the accuracy
    assert states.shape[1] == 8 and np.all(np.isfinite(states))
    per_trial = len(range(rnn_decision._steps("stim"), rnn_decision._steps("trial"), 5))
    assert len(states) == rnn_decision.EVAL_TRIALS * per_trial


def test_attractors_refused_when_the_network_is_not_bistable():
    class FP:
        def __init__(self, kind, dim, x):
            self.kind, self.unstable_dim, self.x = kind, dim, np.asarray(x)

    with pytest.raises(RuntimeError, match="two choices"):
        rnn_analysis._attractors([FP("stable", 0, [0.0, 0.0])], np.ones(2))
    a, b, s = rnn_analysis._attractors(
        [FP("stable", 0, [1.0, 1.0]), FP("stable", 0, [-1.0, -1.0]), FP("saddle", 1, [0, 0])],
        np.ones(2),
    )
    assert a.x[0] == 1.0 and b.x[0] == -1.0 and s.kind == "saddle"


def test_command_is_registered():
    args = build_parser().parse_args(["rnn", "--quick", "--out", "somewhere"])
    assert args._run is cli_rnn.run and args.quick
    assert rnn_analysis.num_steps(True) < rnn_analysis.num_steps(False)
