"""The Composite LSTM (mansimov2015's [14]) as its public code wires it."""
from __future__ import annotations

import pytest
import torch

from replicate.models.composite_lstm import CompositeLSTM, LSTMClassifier, PeepholeLSTM


@pytest.fixture
def seq():
    torch.manual_seed(0)
    return torch.randn(3, 8, 5)  # 3 sequences of 8 frames of 5 features


def test_decoders_reconstruct_backwards_and_predict_forwards(seq):
    model = CompositeLSTM(feature_dim=5, hidden=7, reconstruct=4, future=3)
    recon, future = model(seq)
    assert recon.shape == (3, 4, 5) and future.shape == (3, 3, 5)
    recon_target, future_target = model.targets(seq)
    assert torch.equal(recon_target, seq[:, [4, 3, 2, 1]])  # the encoder reads frames 0-4: newest first
    assert torch.equal(future_target, seq[:, 5:])
    losses = model.loss(seq)
    expected = 0.5 * (recon - recon_target).pow(2).sum(-1).mean() + 0.5 * (future - future_target).pow(2).sum(-1).mean()
    torch.testing.assert_close(losses["loss"], expected)


def test_conditional_decoders_are_fed_the_previous_true_frame(seq, monkeypatch):
    model = CompositeLSTM(feature_dim=5, hidden=7, reconstruct=3, future=3)
    fed = {"decoder": [], "predictor": []}
    for name in fed:
        lstm = getattr(model, name)
        original = lstm.step
        monkeypatch.setattr(lstm, "step", lambda x, state, _n=name, _f=original: (fed[_n].append(x), _f(x, state))[1])
    model(seq)
    assert fed["decoder"][0] is None and fed["predictor"][0] is None
    assert [torch.equal(x, seq[:, i]) for x, i in zip(fed["decoder"][1:], (4, 3))] == [True, True]
    assert [torch.equal(x, seq[:, i]) for x, i in zip(fed["predictor"][1:], (5, 6))] == [True, True]


def test_no_prediction_sees_its_own_target(seq):
    model = CompositeLSTM(feature_dim=5, hidden=7, reconstruct=3, future=3)
    _, future = model(seq)
    changed = seq.clone()
    changed[:, 6] += 1.0  # the second future frame: fed to step 2 only
    _, future2 = model(changed)
    assert torch.equal(future[:, :2], future2[:, :2]) and not torch.equal(future[:, 2], future2[:, 2])


def test_unconditioned_decoders_take_no_input(seq):
    model = CompositeLSTM(feature_dim=5, hidden=7, reconstruct=2, future=2, conditional=False)
    assert model.decoder.input is None and model.predictor.input is None
    recon, future = model(seq)
    assert recon.shape == (3, 2, 5) and future.shape == (3, 2, 5)
    with pytest.raises(ValueError, match="fewer than"):
        CompositeLSTM(feature_dim=5, hidden=7, reconstruct=8, future=2)(seq)


def test_classifier_starts_from_the_encoder_and_averages_step_softmax(seq):
    model = CompositeLSTM(feature_dim=5, hidden=7, reconstruct=2, future=2)
    with torch.no_grad():
        model.encoder.peephole.normal_()
    clf = LSTMClassifier.from_encoder(model, num_classes=4)
    for name, value in model.encoder.state_dict().items():
        assert torch.equal(clf.lstm.state_dict()[name], value)
    logits = clf(seq)
    assert logits.shape == (3, 8, 4)
    scores = clf.scores(seq)
    torch.testing.assert_close(scores, logits.softmax(-1).mean(1))
    torch.testing.assert_close(scores.sum(1), torch.ones(3))
    loss = clf.loss(seq, torch.tensor([0, 1, 3]))
    loss.backward()
    assert torch.isfinite(loss) and clf.lstm.input.weight.grad is not None


def test_peepholes_reach_the_gates():
    lstm = PeepholeLSTM(2, 3)
    x, state = torch.randn(1, 2), (torch.zeros(1, 3), torch.ones(1, 3))
    (h0, _), _ = lstm.step(x, state)
    with torch.no_grad():
        lstm.peephole.fill_(2.0)
    (h1, _), _ = lstm.step(x, state)
    assert not torch.equal(h0, h1)
